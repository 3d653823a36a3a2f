/* trnsim numerics: every data type a NeuronCore computes in, and exact conversions between
 * them and FP32.
 *
 * The semantics follow docs/numerics.md (the project's decisions, each with its source):
 * round-to-nearest-even or stochastic rounding with a counter-based random stream,
 * saturating or non-saturating overflow decided after rounding, OCP MX block formats with
 * three scale rules, NKI / ggml / GPT-OSS packings, exact MX dot products and N:M
 * structured sparsity.
 *
 * Codes are kept unpacked: one code per uint8_t for formats of 8 bits or fewer, uint16_t
 * for 16-bit formats, uint32_t for 32-bit ones (F32 and TF32 as FP32 bit patterns, integers
 * as two's complement). Deliberately left out: FP64 and INT64 (no NeuronCore engine
 * computes in them). */
#ifndef TRNSIM_NUM_H
#define TRNSIM_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- data types ------------------------------------------------------------------------ */

typedef enum trn_dtype {
    TRN_DTYPE_F32,
    TRN_DTYPE_TF32,            /* 1/8/10 in a 32-bit container, low 13 bits zero */
    TRN_DTYPE_BF16,            /* 1/8/7 */
    TRN_DTYPE_F16,             /* IEEE binary16 */
    TRN_DTYPE_FP8_E4M3,        /* OCP E4M3FN: max 448, no Inf, NaN = S.1111.111 */
    TRN_DTYPE_FP8_E5M2,        /* OCP E5M2: IEEE-like, max 57344 */
    TRN_DTYPE_FP8_E4M3_LEGACY, /* IEEE-style E4M3 (NKI float8_e4m3): max 240 */
    TRN_DTYPE_FP8_E3M4,        /* IEEE-style E3M4, bias 3: max 15.5 */
    TRN_DTYPE_FP6_E3M2,        /* MX FP6, every code finite: max 28 */
    TRN_DTYPE_FP6_E2M3,        /* MX FP6: max 7.5 */
    TRN_DTYPE_FP4_E2M1,        /* MX FP4: max 6 */
    TRN_DTYPE_INT8,
    TRN_DTYPE_INT16,
    TRN_DTYPE_INT32,
    TRN_DTYPE_UINT8,
    TRN_DTYPE_UINT16,
    TRN_DTYPE_UINT32,
    TRN_DTYPE_E8M0, /* MX scale: 2^(code-127), 0xFF = NaN, no sign, no zero */
    TRN_DTYPE_COUNT
} trn_dtype;

/* Canonical lower-case name ("bf16", "fp8_e4m3", "int8", "e8m0"). Never NULL. */
const char *trn_dtype_name(trn_dtype t);
/* Looks a dtype up by its canonical name. TRN_E_NOTFOUND (with the list of names in `err`)
 * when unknown. */
trn_status trn_dtype_from_name(const char *name, trn_dtype *t, trn_err *err);
/* Bits of information per element (32, 19, 16, 8, 6, 4 ...). */
int trn_dtype_bits(trn_dtype t);
/* Bytes of the unpacked container of one code: 1, 2 or 4. */
int trn_dtype_container_bytes(trn_dtype t);
int trn_dtype_is_float(trn_dtype t); /* F32 .. FP4_E2M1 */
int trn_dtype_is_int(trn_dtype t);   /* INT8 .. UINT32 */

/* ---- floating-point format descriptors ------------------------------------------------- */

typedef enum trn_fp_specials {
    TRN_SPECIALS_IEEE, /* top exponent: mantissa 0 is Inf, otherwise NaN */
    TRN_SPECIALS_FN,   /* no Inf; only S.1...1.1...1 is NaN (OCP E4M3FN) */
    TRN_SPECIALS_NONE, /* every code is finite (MX FP6 and FP4) */
} trn_fp_specials;

/* A binary floating-point format: (-1)^S 2^(E-bias) 1.M for normals, 2^(1-bias) 0.M for
 * E = 0. FP8 formats are descriptors with a runtime exponent bias (NeuronCore cFP8). */
typedef struct trn_fpfmt {
    uint8_t ebits; /* exponent field width, 1..8 */
    uint8_t mbits; /* mantissa field width, 0..23; at least 1 with IEEE or FN specials */
    int16_t bias;  /* exponent bias */
    trn_fp_specials specials;
} trn_fpfmt;

/* The descriptor of a float dtype (F32 .. FP4_E2M1) with its default bias. */
trn_fpfmt trn_fpfmt_of(trn_dtype t);
/* `f` with exponent bias `bias`. A bias change by d rescales every finite value by 2^-d and
 * leaves the code table alone. TRN_E_RANGE when the format's range would leave FP32's. */
trn_status trn_fpfmt_with_bias(trn_fpfmt f, int bias, trn_fpfmt *out, trn_err *err);
/* Largest finite value and smallest positive subnormal of `f` (exact). */
float trn_fpfmt_max(const trn_fpfmt *f);
float trn_fpfmt_min_subnormal(const trn_fpfmt *f);
/* Number of codes of `f`, 2^(1 + ebits + mbits) (2^32 for FP32). */
uint64_t trn_fpfmt_ncodes(const trn_fpfmt *f);

/* ---- rounding and conversion options --------------------------------------------------- */

typedef enum trn_round {
    TRN_ROUND_RNE, /* round to nearest, ties to even */
    TRN_ROUND_SR,  /* stochastic: magnitude rounds up iff floor(frac * 2^32) + R >= 2^32 */
} trn_round;

/* How one conversion rounds and overflows. Element i of an array conversion uses the random
 * word trn_rng_u32(seed, counter + i), so results never depend on how the array is split. */
typedef struct trn_cvt_opts {
    trn_round round;
    int saturate;     /* 1: overflow and +-Inf give +-max finite; 0: Inf (IEEE) or NaN (FN) */
    uint64_t seed;    /* stochastic rounding stream */
    uint64_t counter; /* index of the random word used for element 0 */
} trn_cvt_opts;

/* Round to nearest even; IEEE overflow (Inf for IEEE formats, NaN for E4M3FN). */
#define TRN_CVT_RNE ((trn_cvt_opts){TRN_ROUND_RNE, 0, 0, 0})
/* Round to nearest even, saturating. */
#define TRN_CVT_RNE_SAT ((trn_cvt_opts){TRN_ROUND_RNE, 1, 0, 0})

/* ---- scalar conversions (the reference semantics) -------------------------------------- */

/* FP32 `x` to the code of format `f`. `rand` is the 32-bit random word used when
 * round == TRN_ROUND_SR (ignored for RNE). Overflow is decided after rounding. NaN keeps its
 * sign and top payload bits and becomes quiet (IEEE), becomes S.1..1 (FN), or becomes +0 in
 * formats without NaN (FP6/FP4; those always saturate). */
uint32_t trn_fp_encode(const trn_fpfmt *f, float x, trn_round round, uint32_t rand, int saturate);
/* The exact FP32 value of `code` in format `f`. A NaN code gives a quiet NaN with the code's
 * sign and its payload in the top mantissa bits (IEEE 754 convertFormat never returns a
 * signaling NaN). */
float trn_fp_decode(const trn_fpfmt *f, uint32_t code);

/* FP32 to any dtype's code (see the container rule at the top). `rand` is the SR word
 * (ignored for RNE). F32 is the identity. Integers round (RNE or SR) then clamp to their
 * range, NaN gives 0. E8M0 gives the nearest power of two (ties, 1.5 2^k, up) clamped to
 * [2^-127, 2^127], and 0xFF for NaN, Inf, zero and negatives; it ignores round and
 * saturate. */
uint32_t trn_cvt_from_f32(trn_dtype t, float x, const trn_cvt_opts *o, uint32_t rand);
/* Any dtype's code to FP32 (INT32/UINT32 round to nearest even above 2^24). F32 returns the
 * bits unchanged; every other float dtype (TF32 and BF16 included) turns a NaN code into a
 * quiet NaN as trn_fp_decode does. */
float trn_cvt_to_f32(trn_dtype t, uint32_t code);

/* Typed storage for the common narrow types (cannot be mixed up with integers). */
typedef struct trn_bf16 {
    uint16_t bits;
} trn_bf16;
typedef struct trn_f16 {
    uint16_t bits;
} trn_f16;

trn_bf16 trn_bf16_from_f32(float x); /* RNE, IEEE overflow, NaN quieted */
float trn_bf16_to_f32(trn_bf16 h);   /* exact; a NaN becomes quiet */
trn_f16 trn_f16_from_f32(float x);   /* RNE, IEEE overflow, NaN quieted */
float trn_f16_to_f32(trn_f16 h);

/* ---- array conversions (fast paths picked at run time) --------------------------------- */

/* out[i] = code of in[i] in dtype t (container per the rule above; `out` holds n codes).
 * Dispatches to AVX2 / AVX-512 kernels where they exist; bit-identical to the _ref version,
 * which loops over trn_cvt_from_f32. Both pointers borrowed. */
void trn_cvt_array(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o);
void trn_cvt_array_ref(trn_dtype t, const float *in, void *out, size_t n, const trn_cvt_opts *o);
/* out[i] = FP32 value of code i. */
void trn_decode_array(trn_dtype t, const void *in, float *out, size_t n);

/* SIMD level of the fast paths. Chosen once from CPUID (and the TRN_SIMD environment
 * variable: none, avx2, avx512), forcible for tests and benchmarks. */
typedef enum trn_simd { TRN_SIMD_NONE, TRN_SIMD_AVX2, TRN_SIMD_AVX512 } trn_simd;
trn_simd trn_simd_detect(void); /* best level this CPU and build support */
trn_simd trn_simd_active(void);
/* TRN_E_UNSUPPORTED if the CPU or the build lacks `s`. */
trn_status trn_simd_force(trn_simd s);
const char *trn_simd_name(trn_simd s);

/* ---- OCP MX block formats -------------------------------------------------------------- */

#define TRN_MX_BLOCK 32

typedef enum trn_scale_rule {
    TRN_SCALE_OCP,   /* floor(log2 amax) - emax_elem (OCP MX v1.0 sec. 6.3, default) */
    TRN_SCALE_NC4,   /* floor(log2 amax) - (emax_elem - 1): NeuronCore-v4 quantize_mx */
    TRN_SCALE_RCEIL, /* ceil(log2(amax / max_elem)): NVIDIA / torchao RCEIL */
} trn_scale_rule;

const char *trn_scale_rule_name(trn_scale_rule r);
trn_status trn_scale_rule_from_name(const char *name, trn_scale_rule *r, trn_err *err);

/* 1 if `elem` is an MX element type: FP8_E4M3, FP8_E5M2, FP6_E3M2, FP6_E2M3, FP4_E2M1, INT8. */
int trn_mx_elem_ok(trn_dtype elem);
/* Exponent of the element type's largest normal: 8, 15, 4, 2, 2, 0 (INT8). */
int trn_mx_emax(trn_dtype elem);

/* The E8M0 scale byte a block with largest magnitude `amax` gets (the sign of `amax` is
 * ignored): 0xFF for NaN/Inf, 0x00 for zero, otherwise the rule's exponent clamped to
 * [-127, 127]. floor(log2) is read from the FP32 bits (subnormals included), never log2f;
 * RCEIL compares amax with 2^s max_elem exactly. Only MXINT8 under NC4 / RCEIL can reach the
 * upper clamp (amax near FLT_MAX); its elements then clamp to +-127. */
uint8_t trn_mx_scale(trn_dtype elem, trn_scale_rule rule, float amax);

/* Quantizes one block of 32 values in[i * stride] (borrowed): scale byte and 32 codes (one per
 * byte; MXINT8 as two's complement with the implicit 2^-6). A NaN or Inf anywhere gives scale
 * 0xFF and every code 0 (the scale alone makes every element NaN). Otherwise element i is
 * V_i / X, computed exactly as an exponent adjustment, rounded per o->round (random word
 * trn_rng_u32(o->seed, o->counter + i)) and clamped to +-max normal (MXINT8: round(V/X * 64)
 * clamped to +-127, so 0x80 is never produced). FP elements keep the sign of zero. */
void trn_mx_quantize_block(trn_dtype elem, trn_scale_rule rule, const float *in, ptrdiff_t stride,
                           const trn_cvt_opts *o, uint8_t *scale, uint8_t codes[TRN_MX_BLOCK]);
/* X * P for one element: NaN when scale == 0xFF; MXINT8 0x80 decodes to -2.0 X; an FP8
 * element NaN / Inf code gives NaN / Inf. Exact, except that products of 2^128 and more
 * (possible under NC4 / RCEIL scales) are +-Inf. */
float trn_mx_decode(trn_dtype elem, uint8_t scale, uint8_t code);
void trn_mx_dequantize_block(trn_dtype elem, uint8_t scale, const uint8_t codes[TRN_MX_BLOCK],
                             float *out, ptrdiff_t stride);

/* Flat arrays: n values, blocks of 32 consecutive values, a trailing partial block padded with
 * zeros. scales holds ceil(n/32) bytes, codes ceil(n/32)*32 bytes (padding codes included).
 * Block b uses random words o->counter + 32 b + i. trn_mx_quantize dispatches to SIMD. */
void trn_mx_quantize(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                     const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);
void trn_mx_quantize_ref(trn_dtype elem, trn_scale_rule rule, const float *in, size_t n,
                         const trn_cvt_opts *o, uint8_t *scales, uint8_t *codes);
/* out[0..n) from ceil(n/32) scales and their codes; trn_mx_dequantize dispatches to SIMD,
 * bit-identical to the _ref loop over trn_mx_decode. */
void trn_mx_dequantize(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                       float *out);
void trn_mx_dequantize_ref(trn_dtype elem, const uint8_t *scales, const uint8_t *codes, size_t n,
                           float *out);

/* Row-major in[rows][cols], blocks of 32 along `axis` (0: down a column, 1: along a row),
 * whose length must be a multiple of 32. codes[rows][cols]; scales[rows/32][cols] (axis 0)
 * or scales[rows][cols/32] (axis 1). Element (r, c) uses random word o->counter + r*cols + c,
 * so axis 1 equals trn_mx_quantize of the flat array. TRN_E_INVALID (naming the axis and its
 * length) for a bad element type, axis or length; all pointers borrowed. */
trn_status trn_mx_quantize_2d(trn_dtype elem, trn_scale_rule rule, const float *in, size_t rows,
                              size_t cols, int axis, const trn_cvt_opts *o, uint8_t *scales,
                              uint8_t *codes, trn_err *err);

/* Sum over nblocks of X_A X_B sum_i P_A[i] P_B[i]: each 32-element block computed exactly (a
 * 128-bit fixed-point sum) and rounded once to FP32 with RNE (subnormal results and overflow
 * to Inf included), blocks accumulated in FP32 in order starting from +0, so an exactly zero
 * result is +0 (MX v1.0 sec. 6.1-6.2 allows any internal precision; docs/numerics.md).
 * Element types may differ. A 0xFF scale makes its block, and so the result, NaN; an FP8
 * element NaN / Inf follows IEEE rules (Inf * 0 = NaN, Inf - Inf = NaN). Pointers borrowed:
 * nblocks scales and 32 * nblocks codes per operand. */
float trn_mx_dot(trn_dtype elem_a, const uint8_t *scales_a, const uint8_t *codes_a,
                 trn_dtype elem_b, const uint8_t *scales_b, const uint8_t *codes_b, size_t nblocks);

/* ---- packings -------------------------------------------------------------------------- */

/* NKI float8_*_x4: four FP8 codes in a 32-bit word, element 0 in the low byte. */
uint32_t trn_pack_fp8_x4(const uint8_t codes[4]);
void trn_unpack_fp8_x4(uint32_t word, uint8_t codes[4]);
/* NKI float4_e2m1fn_x4: four FP4 codes in 16 bits, element 0 in the low nibble. */
uint16_t trn_pack_fp4_x4(const uint8_t codes[4]);
void trn_unpack_fp4_x4(uint16_t word, uint8_t codes[4]);
/* ggml block_mxfp4 (17 bytes): {e, qs[16]}, element j in the low nibble of qs[j], element
 * j + 16 in the high nibble. */
void trn_pack_ggml_mxfp4(uint8_t scale, const uint8_t codes[TRN_MX_BLOCK], uint8_t out[17]);
void trn_unpack_ggml_mxfp4(const uint8_t in[17], uint8_t *scale, uint8_t codes[TRN_MX_BLOCK]);
/* GPT-OSS checkpoint `.blocks` (16 bytes per block): element 2j in the low nibble of byte j,
 * element 2j + 1 in the high nibble. Scales are a separate uint8 tensor. */
void trn_pack_gptoss_mxfp4(const uint8_t codes[TRN_MX_BLOCK], uint8_t out[16]);
void trn_unpack_gptoss_mxfp4(const uint8_t in[16], uint8_t codes[TRN_MX_BLOCK]);

/* Trn3 MX matmul tiles (docs/numerics.md sec. 4.6): the contraction dim K = 4 * parts is
 * spread over SBUF partitions and the 4 slots of each x4 element; the hardware only needs
 * both operands to use the same permutation, and a scaling group is 8 partitions x 4 slots. */
typedef enum trn_mx_kmap {
    TRN_MX_KMAP_STRIDED, /* k = parts * j + p -> partition p, slot j (NKI tutorial; 128 apart) */
    TRN_MX_KMAP_BLOCKED, /* k = 32 b + 4 q + j -> partition 8 b + q, slot j: OCP blocks of 32
                            consecutive k are exactly the scaling groups */
} trn_mx_kmap;

/* Partition and slot of contraction index k < 4 * parts under `map`. */
void trn_mx_kmap_place(trn_mx_kmap map, size_t parts, size_t k, size_t *partition, int *slot);
/* codes[4 * parts][f] (one code per byte, borrowed) to x4 elements out[parts][f] (borrowed):
 * uint32_t words for FP8_E4M3 / FP8_E5M2 (trn_pack_fp8_x4), uint16_t for FP4_E2M1
 * (trn_pack_fp4_x4). TRN_E_INVALID for another element type or, under BLOCKED, parts not a
 * multiple of 8. */
trn_status trn_pack_mx_x4_tile(trn_dtype elem, trn_mx_kmap map, const uint8_t *codes, size_t parts,
                               size_t f, void *out, trn_err *err);
/* The inverse: x4 elements in[parts][f] to codes[4 * parts][f]. */
trn_status trn_unpack_mx_x4_tile(trn_dtype elem, trn_mx_kmap map, const void *in, size_t parts,
                                 size_t f, uint8_t *codes, trn_err *err);

/* ---- N:M structured sparsity ----------------------------------------------------------- */

/* At most m non-zeros in every n consecutive elements of a row (an element is non-zero when
 * x != 0: NaN counts, -0 does not and expands back to +0). */
typedef struct trn_nm {
    uint8_t m, n;
} trn_nm;

/* Parses "4:16" etc.; only the NeuronCore-v3/v4 patterns 4:16 4:12 4:8 2:8 2:4 1:4 1:2
 * (TRN_E_INVALID listing them otherwise). */
trn_status trn_nm_parse(const char *text, trn_nm *p, trn_err *err);
/* uint16 tag words per row of `cols` dense columns: ceil(cols / n * m / 4); 0 for an
 * unsupported pattern. */
size_t trn_nm_tag_words(trn_nm p, size_t cols);
/* dense[rows][cols] (cols a multiple of n) to values[rows][cols/n*m] and 4-bit position tags,
 * 4 per uint16 (tag j of a row in bits 4(j%4)..4(j%4)+3 of word j/4), tags[rows][ceil(cols/n*m/4)].
 * Positions within a group are strictly increasing; a group with fewer than m non-zeros is
 * padded with zeros at the lowest unused positions. A group with more than m non-zeros is
 * TRN_E_INVALID naming the row and group (rows before it are written). Unused nibbles of a
 * row's last tag word are 0. Both directions return TRN_E_INVALID for an unsupported pattern
 * or cols not a multiple of n. Pointers borrowed. */
trn_status trn_nm_compress(trn_nm p, const float *dense, size_t rows, size_t cols, float *values,
                           uint16_t *tags, trn_err *err);
/* The inverse: rejects (TRN_E_INVALID naming row, group and tag) tags that are out of range
 * or not strictly increasing in a group; unused nibbles of the last word are ignored. */
trn_status trn_nm_expand(trn_nm p, const float *values, const uint16_t *tags, size_t rows,
                         size_t cols, float *dense, trn_err *err);

#ifdef __cplusplus
}
#endif
#endif
