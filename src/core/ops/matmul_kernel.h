/* The TensorE matmul arithmetic kernel: the FP32 multiply-accumulate behind nc_matmul, as a
 * plain reference and a fast register-blocked version that gives the same bits. It leaves
 * out everything that is not arithmetic: operand decoding (BF16/FP16/FP8/TF32 -> FP32 is the
 * caller's), SBUF/PSUM addressing and bounds, the cost model, and the modes that are data
 * moves rather than sums (is_transpose / nc_transpose is a bit-exact copy, not this kernel).
 *
 * The contract (it goes into docs/isa.md as the definition of nc_matmul):
 *
 *   nc_matmul(stationary[K,M], moving[K,N]) -> psum[M,N]
 *
 *   tile[m][n] = acc_K, where acc_0 = +0.0f and, for k = 0 .. K-1 in this order,
 *                acc_{k+1} = fmaf(stationary[k][m], moving[k][n], acc_k)
 *                (one FP32 fused multiply-add per step, rounded to nearest even)
 *   psum[m][n] = accumulate ? fp32(psum[m][n] + tile[m][n])   (one RNE addition)
 *                           : tile[m][n]
 *
 *   - K = 0 gives tile = +0 (so accumulate turns a -0 psum into +0).
 *   - Subnormal inputs, products and sums are kept (no flush to zero); Inf and NaN follow
 *     IEEE 754 fusedMultiplyAdd and addition (Inf * 0 = NaN, Inf - Inf = NaN).
 *   - Every NaN written to psum is the canonical quiet NaN 0x7FC00000 (*ours*): x86 FMA
 *     units and libm fmaf differ in which operand's payload a NaN result carries, and the
 *     x86 default NaN is negative, so a canonical NaN is the only way the same inputs give
 *     the same bits at every SIMD level and on every machine. Whether NaN results at all is
 *     exactly as fmaf decides.
 *   - Inputs are arbitrary FP32 values. The caller decodes narrow dtypes first; products of
 *     two BF16/FP16/FP8/TF32 values are exact in FP32, so only the accumulation rounds.
 *
 * Layouts (all row-major, strides in elements, not bytes):
 *   stationary [K][M], row k at stationary + k * stationary_stride  (K = partitions)
 *   moving     [K][N], row k at moving + k * moving_stride
 *   psum       [M][N], row m at psum + m * psum_stride              (M = PSUM partitions)
 * psum must not overlap stationary or moving. Any K, M, N >= 0; strides >= the row length
 * (a stride is not read when its matrix has at most one row).
 *
 * What the core will need beside this kernel: FP8 double-row (K = 256 as [128][2][M]) and MX
 * quad mode (K = 512) call this kernel once their rows are gathered into [K][M] / [K][N]
 * order, if the contract for those modes is a sequential FMA chain over the gathered K; a
 * mode whose PE adds its 2 or 4 products before accumulating needs its own kernel. BF16
 * PSUM (v4) is this kernel into an FP32 tile, then the up-cast, add and down-cast of
 * numerics.md. */
#ifndef TRN_CORE_MATMUL_KERNEL_H
#define TRN_CORE_MATMUL_KERNEL_H

#include <stddef.h>

#include "trnsim/num.h"

/* The contract above, written as directly as possible: for each (m, n), a K-step fmaf chain.
 * Slow (a libm call per step); it is the definition the fast path is tested against.
 * All pointers borrowed. */
void trn_mm_ref(size_t k, size_t m, size_t n, const float *stationary, size_t stationary_stride,
                const float *moving, size_t moving_stride, float *psum, size_t psum_stride,
                int accumulate);

/* Same result bit for bit as trn_mm_ref, fast: operand panels are packed, each output element
 * keeps its accumulator in a register for a whole K block and K blocks are chained through
 * the stored FP32 partial (an exact copy of the register), so the k order never changes.
 * Vectorized across n, never across k. Uses the kernel of trn_simd_active() (AVX-512, AVX2
 * with FMA, or portable C); single-threaded, deterministic. Falls back to trn_mm_ref if its
 * scratch allocation fails. All pointers borrowed. */
void trn_mm(size_t k, size_t m, size_t n, const float *stationary, size_t stationary_stride,
            const float *moving, size_t moving_stride, float *psum, size_t psum_stride,
            int accumulate);

/* Name of the kernel trn_mm uses now, e.g. "avx512 12x32": level, rows x columns of the
 * register micro-tile. Static string. */
const char *trn_mm_kernel_name(void);

/* ---- kernel internals: the micro-kernels of each SIMD level ------------------------------
 *
 * A micro-kernel computes one MR x NR block of output from packed panels:
 *   ap: kc x MR, element (k, i) at ap[k * MR + i]   (stationary rows, zero-padded)
 *   bp: kc x NR, element (k, j) at bp[k * NR + j]   (moving rows, zero-padded)
 * acc[i][j] starts at +0, or at part[i * part_stride + j] when part is non-NULL (the FP32
 * partial of the previous K block), then runs the kc FMAs in k order. The valid mr x nr
 * corner (mr <= MR, nr <= NR) is written to out[i * out_stride + j] as acc, or as
 * fp32(out + acc) when add is set, with NaN made canonical. Only the valid corner of part
 * and out is read or written. */
typedef void trn_mm_ukernel(size_t kc, const float *ap, const float *bp, const float *part,
                            size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                            int add);

#define TRN_MM_MR_C      4
#define TRN_MM_NR_C      16
#define TRN_MM_MR_AVX2   6
#define TRN_MM_NR_AVX2   16
#define TRN_MM_MR_AVX512 12
#define TRN_MM_NR_AVX512 32

void trn_mm_ukernel_c(size_t kc, const float *ap, const float *bp, const float *part,
                      size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                      int add);
void trn_mm_ukernel_avx2(size_t kc, const float *ap, const float *bp, const float *part,
                         size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                         int add);
void trn_mm_ukernel_avx512(size_t kc, const float *ap, const float *bp, const float *part,
                           size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                           int add);

#endif
