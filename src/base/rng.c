/* Counter-based random words (SplitMix64 indexed by position). */
#include "base_impl.h"

uint64_t trn_rng_u64(uint64_t seed, uint64_t counter) {
    uint64_t z = seed + (counter + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint32_t trn_rng_u32(uint64_t seed, uint64_t counter) {
    return (uint32_t)(trn_rng_u64(seed, counter) >> 32);
}
