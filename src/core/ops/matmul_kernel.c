/* The TensorE matmul kernel (contract in matmul_kernel.h): the fmaf reference, the portable
 * C micro-kernel, and the blocked driver that packs operand panels and runs the micro-kernel
 * of the active SIMD level over them. Left out: threads (the driver is single-threaded and
 * deterministic; a split over M or N blocks would keep the bits, a split over K would not).
 *
 * Blocking (GotoBLAS / BLIS order, without changing any element's k order):
 *   for each NC-wide slab of columns, for each KC-deep block of K:
 *     pack moving[kc][nc] into NR-wide panels (kc x NR each, zero-padded)
 *     for each MC-tall slab of rows:
 *       pack stationary[kc][mc] into MR-wide panels (kc x MR each, zero-padded)
 *       for each NR panel, for each MR panel: micro-kernel
 * A K block after the first starts its accumulators from the FP32 partial the previous one
 * stored: the register held exactly that FP32 value, so the FMA chain is the same as one long
 * loop. The partial lives in psum itself when accumulate is off, else in a scratch slab so
 * the old psum survives until the single final addition. */
#include "matmul_kernel.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static float canonical_nan(void) {
    const uint32_t bits = UINT32_C(0x7FC00000);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void trn_mm_ref(size_t k, size_t m, size_t n, const float *stationary, size_t stationary_stride,
                const float *moving, size_t moving_stride, float *psum, size_t psum_stride,
                int accumulate) {
    const float qnan = canonical_nan();
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t p = 0; p < k; p++)
                acc =
                    fmaf(stationary[p * stationary_stride + i], moving[p * moving_stride + j], acc);
            float v = accumulate ? psum[i * psum_stride + j] + acc : acc;
            psum[i * psum_stride + j] = isnan(v) ? qnan : v;
        }
    }
}

void trn_mm_ukernel_c(size_t kc, const float *ap, const float *bp, const float *part,
                      size_t part_stride, float *out, size_t out_stride, size_t mr, size_t nr,
                      int add) {
    enum { MR = TRN_MM_MR_C, NR = TRN_MM_NR_C };
    float acc[MR][NR];
    for (size_t i = 0; i < MR; i++)
        for (size_t j = 0; j < NR; j++)
            acc[i][j] = part && i < mr && j < nr ? part[i * part_stride + j] : 0.0f;
    for (size_t p = 0; p < kc; p++, ap += MR, bp += NR)
        for (size_t i = 0; i < MR; i++)
            for (size_t j = 0; j < NR; j++) acc[i][j] = fmaf(ap[i], bp[j], acc[i][j]);
    const float qnan = canonical_nan();
    for (size_t i = 0; i < mr; i++) {
        for (size_t j = 0; j < nr; j++) {
            float v = add ? out[i * out_stride + j] + acc[i][j] : acc[i][j];
            out[i * out_stride + j] = isnan(v) ? qnan : v;
        }
    }
}

/* One SIMD level's micro-kernel and its block sizes. KC x NR floats of moving should stay in
 * L1 while the MR panels of an MC x KC stationary block stream from L2. */
typedef struct mm_level {
    const char *name;
    trn_mm_ukernel *ukernel;
    size_t mr, nr; /* register micro-tile: rows (m) x columns (n) */
    size_t kc;     /* K block depth */
    size_t mc;     /* rows per packed stationary block, a multiple of mr */
    size_t nc;     /* columns per packed moving slab, a multiple of nr */
} mm_level;

static const mm_level level_c = {"c 4x16", trn_mm_ukernel_c, TRN_MM_MR_C, TRN_MM_NR_C, 256, 128,
                                 2048};
#ifdef TRN_HAVE_AVX2_KERNELS
static const mm_level level_avx2 = {
    "avx2 6x16", trn_mm_ukernel_avx2, TRN_MM_MR_AVX2, TRN_MM_NR_AVX2, 256, 144, 2048};
#endif
#ifdef TRN_HAVE_AVX512_KERNELS
static const mm_level level_avx512 = {
    "avx512 12x32", trn_mm_ukernel_avx512, TRN_MM_MR_AVX512, TRN_MM_NR_AVX512, 256, 144, 2048};
#endif

static const mm_level *active_level(void) {
    trn_simd s = trn_simd_active();
    (void)s;
#ifdef TRN_HAVE_AVX512_KERNELS
    if (s == TRN_SIMD_AVX512) return &level_avx512;
#endif
#ifdef TRN_HAVE_AVX2_KERNELS
#if defined(__x86_64__) && defined(__GNUC__)
    /* trn_simd_active() vouches for AVX2, not FMA (every AVX2 CPU shipped has both). */
    if (s >= TRN_SIMD_AVX2 && __builtin_cpu_supports("fma")) return &level_avx2;
#endif
#endif
    return &level_c;
}

const char *trn_mm_kernel_name(void) {
    return active_level()->name;
}

static size_t round_up(size_t x, size_t to) {
    return (x + to - 1) / to * to;
}
static size_t min_sz(size_t a, size_t b) {
    return a < b ? a : b;
}

/* Floats between consecutive packed panels beyond their rows * w: one cache line, so that
 * panels of power-of-two sizes do not all start in the same L1 set. */
enum { PANEL_PAD = 16 };

/* How many rows ahead pack() asks for the source: the rows of a strided operand are apart
 * enough that the hardware prefetcher restarts on each. */
enum { PREFETCH_ROWS = 4 };

static size_t panel_stride(size_t rows, size_t w) {
    return rows * w + PANEL_PAD;
}

/* src[rows][cols] (row stride ld) -> panels of `w` columns: panel q holds rows 0..rows-1 of
 * columns q*w .. q*w+w-1 at dst[q*panel_stride + r*w + c], zero beyond `cols`. Row by row,
 * so the source streams in address order. */
static void pack(const float *src, size_t ld, size_t rows, size_t cols, size_t w, float *dst) {
    size_t full = cols / w, rest = cols % w, pstride = panel_stride(rows, w);
    for (size_t r = 0; r < rows; r++, src += ld) {
        float *d = dst + r * w;
#if defined(__GNUC__)
        if (r + PREFETCH_ROWS < rows)
            for (size_t c = 0; c < cols; c += 16) __builtin_prefetch(src + PREFETCH_ROWS * ld + c);
#endif
        for (size_t q = 0; q < full; q++, d += pstride)
            for (size_t c = 0; c < w; c++) d[c] = src[q * w + c];
        if (rest) {
            for (size_t c = 0; c < rest; c++) d[c] = src[full * w + c];
            for (size_t c = rest; c < w; c++) d[c] = 0.0f;
        }
    }
}

/* K = 0: the tile is +0, so psum becomes +0, or psum + 0 (which turns -0 into +0). */
static void zero_tile(size_t m, size_t n, float *psum, size_t psum_stride, int accumulate) {
    const float qnan = canonical_nan();
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float v = accumulate ? psum[i * psum_stride + j] + 0.0f : 0.0f;
            psum[i * psum_stride + j] = isnan(v) ? qnan : v;
        }
    }
}

void trn_mm(size_t k, size_t m, size_t n, const float *stationary, size_t stationary_stride,
            const float *moving, size_t moving_stride, float *psum, size_t psum_stride,
            int accumulate) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        zero_tile(m, n, psum, psum_stride, accumulate);
        return;
    }
    const mm_level *L = active_level();
    size_t kc_max = min_sz(k, L->kc), mc_max = round_up(min_sz(m, L->mc), L->mr),
           nc_max = round_up(min_sz(n, L->nc), L->nr);
    /* The partial of a K block needs a home apart from psum only if accumulating. */
    size_t part_elems = accumulate && k > L->kc ? m * nc_max : 0;
    /* a_elems rounded up so that bp and the scratch start on 64-byte lines too */
    size_t a_elems = round_up(panel_stride(kc_max, L->mr) * (mc_max / L->mr), 16),
           b_elems = panel_stride(kc_max, L->nr) * (nc_max / L->nr);
    size_t bytes = round_up((a_elems + b_elems + part_elems) * sizeof(float), 64);
    float *buf = aligned_alloc(64, bytes);
    if (!buf) {
        trn_mm_ref(k, m, n, stationary, stationary_stride, moving, moving_stride, psum, psum_stride,
                   accumulate);
        return;
    }
    float *ap = buf, *bp = buf + a_elems, *scratch = part_elems ? bp + b_elems : NULL;

    for (size_t jc = 0; jc < n; jc += L->nc) {
        size_t nc = min_sz(L->nc, n - jc);
        for (size_t pc = 0; pc < k; pc += L->kc) {
            size_t kc = min_sz(L->kc, k - pc);
            int first = pc == 0, last = pc + kc == k;
            pack(moving + pc * moving_stride + jc, moving_stride, kc, nc, L->nr, bp);
            for (size_t ic = 0; ic < m; ic += L->mc) {
                size_t mc = min_sz(L->mc, m - ic);
                pack(stationary + pc * stationary_stride + ic, stationary_stride, kc, mc, L->mr,
                     ap);
                for (size_t jr = 0; jr < nc; jr += L->nr) {
                    const float *bpan = bp + jr / L->nr * panel_stride(kc, L->nr);
                    for (size_t ir = 0; ir < mc; ir += L->mr) {
                        const float *apan = ap + ir / L->mr * panel_stride(kc, L->mr);
                        float *c = psum + (ic + ir) * psum_stride + jc + jr;
                        float *s = scratch ? scratch + (ic + ir) * nc_max + jr : NULL;
                        size_t mr = min_sz(L->mr, mc - ir), nr = min_sz(L->nr, nc - jr);
                        /* where the previous K block left the partial, where this one goes */
                        const float *part = first ? NULL : s ? s : c;
                        size_t part_stride = s ? nc_max : psum_stride;
                        if (last)
                            L->ukernel(kc, apan, bpan, part, part_stride, c, psum_stride, mr, nr,
                                       accumulate);
                        else if (s)
                            L->ukernel(kc, apan, bpan, part, part_stride, s, nc_max, mr, nr, 0);
                        else
                            L->ukernel(kc, apan, bpan, part, part_stride, c, psum_stride, mr, nr,
                                       0);
                    }
                }
            }
        }
    }
    free(buf);
}
