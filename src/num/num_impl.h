/* Private declarations shared inside the numerics layer. */
#ifndef TRN_NUM_IMPL_H
#define TRN_NUM_IMPL_H

#include <string.h>

#include "trnsim/num.h"

static inline uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static inline float f32_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* Code magnitude (sign bit excluded) of the largest finite value of `f`. */
uint32_t trn_fpfmt_max_code(const trn_fpfmt *f);

/* The magnitude sig * 2^-shift rounded to an integer: RNE, or SR (up iff
 * floor(frac * 2^32) + rand >= 2^32). sig < 2^25; a negative shift is an exact shift left. */
uint64_t trn_round_shift(uint64_t sig, int shift, trn_round round, uint32_t rand);

#endif
