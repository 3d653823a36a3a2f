/* Private declarations shared inside the hardware-catalog layer. */
#ifndef TRN_HW_IMPL_H
#define TRN_HW_IMPL_H

#include "trnsim/hw.h"

typedef struct trn_hw_embedded_file {
    const char *name; /* file name in hw/ */
    const char *text; /* NUL-terminated JSON */
} trn_hw_embedded_file;

/* Generated from hw/<name>.json (cmake/embed_hw_gen.cmake); ends with {NULL, NULL}. */
extern const trn_hw_embedded_file trn_hw_embedded_files[];

#endif
