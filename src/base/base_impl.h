/* Private declarations shared inside the base layer. */
#ifndef TRN_BASE_IMPL_H
#define TRN_BASE_IMPL_H

#include "trnsim/base.h"

#endif
