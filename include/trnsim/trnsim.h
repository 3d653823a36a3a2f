/* trnsim: a software AWS Trainium. The umbrella header: one include per layer. */
#ifndef TRNSIM_H
#define TRNSIM_H

#include "trnsim/base.h"
#include "trnsim/io.h"
#include "trnsim/num.h"
#include "trnsim/hw.h"
#include "trnsim/isa.h"
#include "trnsim/model.h"
#include "trnsim/core.h"
#include "trnsim/timing.h"
#include "trnsim/chip.h"
#include "trnsim/fabric.h"
#include "trnsim/graph.h"
#include "trnsim/lower.h"
#include "trnsim/runtime.h"
#include "trnsim/run.h"
#include "trnsim/svg.h"
#include "trnsim/plan.h"
#include "trnsim/plan_des.h"

#endif
