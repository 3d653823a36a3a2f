/* The embedded hardware catalog: the documented figures of trainium-facts.md come out of it,
 * the derived figures follow from the engines, every number carries a known source (or a
 * derivation or an assumption with its reason), and the catalog survives a JSON round trip.
 * Loading errors and overrides are in test_hw_load.c.
 * LABELS: unit */
#include <cjson/cJSON.h>
#include <ctype.h>

#include "harness.h"
#include "trnsim/hw.h"

#define KIB 1024.0
#define MIB (1024.0 * KIB)
#define GIB (1024.0 * MIB)
#define TIB (1024.0 * GIB)

/* Relative closeness for derived-vs-published checks. */
#define CHECK_REL(a, b, rel) CHECK_NEAR((a), (b), fabs((double)(b)) * (rel))

static trn_hw *hw;

static void test_cores(void) {
    const trn_hw_core *v2 = trn_hw_core_get(hw, "v2"), *v3 = trn_hw_core_get(hw, "v3"),
                      *v4 = trn_hw_core_get(hw, "v4");
    CHECK(v2 && v3 && v4);
    if (!v2 || !v3 || !v4) return;
    /* AG2/AG3/AG4 clocks */
    CHECK_EQ_INT(v2->tensor_hz.value, 2800000000LL);
    CHECK_EQ_INT(v3->tensor_hz.value, 2400000000LL);
    CHECK_EQ_INT(v4->tensor_hz.value, 2400000000LL);
    CHECK_EQ_INT(v3->vector_hz.value, 960000000LL);
    CHECK_EQ_INT(v3->scalar_hz.value, 1200000000LL);
    CHECK_EQ_INT(v2->vector_hz.value, 1120000000LL);
    CHECK(strcmp(v3->tensor_hz.source, "AG3") == 0);
    CHECK_EQ_INT(v3->tensor_hz.origin, TRN_HW_SOURCED);
    /* SBUF 24 / 28 / 32 MiB = 128 partitions x 192 / 224 / 256 KiB; PSUM 2 MiB, 8 banks */
    CHECK_EQ_INT(v2->partitions.value * v2->sbuf_bytes_per_partition.value, 24 * MIB);
    CHECK_EQ_INT(v3->partitions.value * v3->sbuf_bytes_per_partition.value, 28 * MIB);
    CHECK_EQ_INT(v4->partitions.value * v4->sbuf_bytes_per_partition.value, 32 * MIB);
    CHECK_EQ_INT(v3->sbuf_bytes_per_partition.value, 224 * KIB);
    CHECK_EQ_INT(v4->psum_bytes_per_partition.value * v4->partitions.value, 2 * MIB);
    CHECK_EQ_INT(v3->psum_banks.value, 8);
    CHECK_EQ_INT(v3->pe_rows.value, 128);
    CHECK_EQ_INT(v3->pe_cols.value, 128);
    /* matmul limits and performance modes */
    CHECK_EQ_INT(v3->matmul_n_max.value, 512);
    CHECK_EQ_INT(v4->matmul_n_max.value, 4096);
    CHECK_EQ_INT(v4->matmul_n_max_bf16_psum.value, 8192);
    CHECK_EQ_INT(v3->matmul_n_max_bf16_psum.origin, TRN_HW_ABSENT);
    CHECK_EQ_INT(v2->pe_tile_min.value, 64);
    CHECK_EQ_INT(v3->pe_tile_min.value, 32);
    CHECK_NEAR(v3->tensor_rate[TRN_HW_FP8].value, 2, 0);
    CHECK_NEAR(v2->tensor_rate[TRN_HW_FP8].value, 1, 0);
    CHECK_NEAR(v4->tensor_rate[TRN_HW_MXFP8].value, 4, 0);
    CHECK_EQ_INT(v3->tensor_rate[TRN_HW_MXFP8].origin, TRN_HW_ABSENT);
    /* TensorE peak = 128 x 128 x 2 x clock x rate: 78.64 TFLOPS BF16 on v3 (stated 79) */
    CHECK_NEAR(trn_hw_core_peak_flops(v3, TRN_HW_BF16), 78.6432e12, 1);
    CHECK_NEAR(trn_hw_core_peak_flops(v3, TRN_HW_FP8), 157.2864e12, 1);
    CHECK_NEAR(trn_hw_core_peak_flops(v3, TRN_HW_FP32), 19.6608e12, 1);
    CHECK_NEAR(trn_hw_core_peak_flops(v2, TRN_HW_BF16), 91.7504e12, 1);
    CHECK_NEAR(trn_hw_core_peak_flops(v4, TRN_HW_MXFP8), 314.5728e12, 1);
    CHECK_NEAR(trn_hw_core_peak_flops(v3, TRN_HW_MXFP8), 0, 0); /* v3 has no MX */
    CHECK_REL(trn_hw_core_peak_flops(v3, TRN_HW_BF16),
              v3->published.tensor_peak_flops[TRN_HW_BF16].value, 0.01);
    CHECK_NEAR(v3->published.tensor_peak_flops[TRN_HW_BF16].value, 79e12, 0);
    CHECK_NEAR(v2->published.tensor_peak_flops[TRN_HW_BF16].value, 92e12, 0);
    /* instruction cost constants (trainium-facts.md 3.4) */
    CHECK_EQ_INT(v2->min_ii_cycles.value, 64);
    CHECK_EQ_INT(v2->static_overhead_cycles.value, 100);
    CHECK_EQ_INT(v2->mm_init_cycles.value, 64);
    CHECK_EQ_INT(v2->gpsimd_start_cycles.value, 150);
    CHECK_EQ_INT(v2->min_ii_dynamic_cycles.value, 600);
    CHECK_EQ_INT(v3->min_ii_cycles.origin, TRN_HW_ASSUMED); /* NC-v2 formulas reused */
    /* the timing model's constants: TensorE MIN_II and fast LS [ISA-OLD, AG2, PERF], the SP
     * clock and the semaphore latency (not published: assumed), DMA transpose rates [AG3] from
     * v3, the VectorE modes by data type (v3 BF16/FP16 [AG3], v4 also FP8 [AG4], none on v2) */
    CHECK_EQ_INT(v2->pe_min_ii_cycles.value, 64);
    CHECK_EQ_INT(v2->pe_min_ii_cycles.origin, TRN_HW_SOURCED);
    CHECK_EQ_INT(v3->pe_min_ii_cycles.origin, TRN_HW_ASSUMED);
    CHECK_NEAR(v2->pe_ls_speedup.value, 4, 0);
    CHECK_EQ_INT(v2->pe_ls_speedup.origin, TRN_HW_SOURCED);
    const trn_hw_core *all[3] = {v2, v3, v4};
    for (int k = 0; k < 3; k++) {
        CHECK_NEAR(all[k]->sync_hz.value, all[k]->scalar_hz.value, 0);
        CHECK_EQ_INT(all[k]->sync_hz.origin, TRN_HW_ASSUMED);
        CHECK_EQ_INT(all[k]->sem_latency_ns.origin, TRN_HW_ASSUMED);
        CHECK(all[k]->sem_latency_ns.value >= 0);
    }
    CHECK_EQ_INT(v2->dma_transpose_hbm_frac.origin, TRN_HW_ABSENT); /* v3+ only */
    CHECK_NEAR(v3->dma_transpose_hbm_frac.value, 0.9, 0);
    CHECK_NEAR(v3->dma_transpose_sbuf_frac.value, 0.5, 0);
    CHECK_EQ_INT(v3->dma_transpose_hbm_frac.origin, TRN_HW_SOURCED);
    CHECK_EQ_INT(v4->dma_transpose_hbm_frac.origin, TRN_HW_ASSUMED);
    for (int d = 0; d < TRN_HW_NDTYPES; d++)
        CHECK_EQ_INT(v2->vector_mode_elems_per_cycle[d].origin, TRN_HW_ABSENT);
    CHECK_NEAR(v3->vector_mode_elems_per_cycle[TRN_HW_BF16].value, 512, 0);
    CHECK_NEAR(v3->vector_mode_elems_per_cycle[TRN_HW_FP16].value, 512, 0);
    CHECK_EQ_INT(v3->vector_mode_elems_per_cycle[TRN_HW_FP8].origin, TRN_HW_ABSENT);
    CHECK_EQ_INT(v3->vector_mode_elems_per_cycle[TRN_HW_FP32].origin, TRN_HW_ABSENT);
    CHECK_NEAR(v4->vector_mode_elems_per_cycle[TRN_HW_FP8].value, 512, 0);
    CHECK_EQ_INT(v4->vector_mode_elems_per_cycle[TRN_HW_FP8].origin, TRN_HW_SOURCED);
    /* DMA: 16 engines; 27.2 / 27.2 / 38.4 GB/s theoretical; 17 / 23 / 33 B/ns practical */
    CHECK_EQ_INT(v3->dma_engines.value, 16);
    CHECK_NEAR(v3->dma_engine_bps.value, 27.2e9, 0);
    CHECK_NEAR(v4->dma_engine_bps.value, 38.4e9, 0);
    CHECK_NEAR(v2->dma_engine_practical_bps.value, 17e9, 0);
    CHECK_NEAR(v3->dma_engine_practical_bps.value * v3->dma_engines.value,
               v3->published.dma_bps.value, 0); /* 368 GB/s [DMABW] */
    CHECK_NEAR(v3->dma_fixed_ns.value, 1300, 0);
    CHECK_NEAR(v3->hwdge_instr_ns.value, 600, 0);
    CHECK_EQ_INT(v2->hwdge_instr_ns.origin, TRN_HW_ABSENT);
    CHECK_EQ_INT(v2->dge_instances.value, 0);
    CHECK_EQ_INT(v3->dge_instances.value, 2);
    /* efficiency curve: dma_sat_efficiency at the saturation size, rising with size */
    CHECK_NEAR(trn_hw_dma_efficiency(v3, 4096), 0.9, 1e-12);
    CHECK(trn_hw_dma_efficiency(v3, 256) < 0.5);
    CHECK(trn_hw_dma_efficiency(v3, 256) < trn_hw_dma_efficiency(v3, 2048));
    CHECK(trn_hw_dma_efficiency(v3, 2048) < trn_hw_dma_efficiency(v3, 32768));
    CHECK(trn_hw_dma_efficiency(v3, 1 << 20) > 0.99);
    CHECK_NEAR(trn_hw_dma_efficiency(v3, 0), 0, 0);
    /* 4096 B at 23 GB/s = 178.1 ns; overhead = 178.1 x (1/0.9 - 1) = 19.79 ns */
    CHECK_NEAR(trn_hw_dma_buffer_overhead_ns(v3), 4096.0 / 23.0 / 9.0, 1e-9);
}

static void test_chips(void) {
    const trn_hw_chip *trn1 = trn_hw_chip_get(hw, "trn1"), *trn2 = trn_hw_chip_get(hw, "trn2"),
                      *trn3 = trn_hw_chip_get(hw, "trn3"), *trn4 = trn_hw_chip_get(hw, "trn4"),
                      *inf2 = trn_hw_chip_get(hw, "inf2");
    CHECK(trn1 && trn2 && trn3 && trn4 && inf2);
    if (!trn1 || !trn2 || !trn3 || !trn4 || !inf2) return;
    CHECK(trn2->core == trn_hw_core_get(hw, "v3"));
    CHECK(trn1->core == trn_hw_core_get(hw, "v2"));
    CHECK(inf2->core == trn_hw_core_get(hw, "v2"));
    CHECK(trn3->core == trn_hw_core_get(hw, "v4"));
    CHECK_EQ_INT(trn1->cores.value, 2);
    CHECK_EQ_INT(trn2->cores.value, 8);
    CHECK_EQ_INT(trn3->cores.value, 8);
    /* HBM: 32 GiB @ 820 GiB/s, 96 GiB @ 2.9 TB/s, 144 GiB @ 4.9 TB/s */
    CHECK_NEAR(trn1->hbm_bytes.value, 32 * GIB, 0);
    CHECK_NEAR(trn1->hbm_bw_bps.value, 820 * GIB, 0);
    CHECK_NEAR(trn2->hbm_bytes.value, 96 * GIB, 0);
    CHECK_NEAR(trn2->hbm_bw_bps.value, 2.9e12, 0);
    CHECK_NEAR(trn3->hbm_bytes.value, 144 * GIB, 0);
    CHECK_NEAR(trn3->hbm_bw_bps.value, 4.9e12, 0);
    /* NeuronLink 384 GB/s / 1.28 TB/s / 2.56 TB/s, 4 links */
    CHECK_NEAR(trn1->neuronlink_bw_bps.value, 384e9, 0);
    CHECK_NEAR(trn2->neuronlink_bw_bps.value, 1.28e12, 0);
    CHECK_NEAR(trn3->neuronlink_bw_bps.value, 2.56e12, 0);
    CHECK_EQ_INT(trn2->neuronlink_links.value, 4);
    CHECK_EQ_INT(inf2->neuronlink_links.value, 2);
    CHECK_EQ_INT(trn1->cc_cores.value, 6);
    CHECK_EQ_INT(trn2->cc_cores.value, 16);
    CHECK_NEAR(trn2->power_w.value, 500, 0);
    /* chip peaks: cores x core peak. Trn2 BF16 629 from the engines vs 667 published (1.2) */
    CHECK_NEAR(trn_hw_chip_peak_flops(trn2, TRN_HW_BF16), 8 * 78.6432e12, 1);
    CHECK_NEAR(trn2->published.peak_flops[TRN_HW_BF16].value, 667e12, 0);
    CHECK(trn2->published.peak_flops[TRN_HW_BF16].note != NULL); /* the difference explained */
    CHECK_NEAR(trn2->published.peak_flops[TRN_HW_FP8].value, 1299e12, 0);
    /* Trn3 MXFP8: 8 x 314.6 = 2517 matches the published figure */
    CHECK_REL(trn_hw_chip_peak_flops(trn3, TRN_HW_MXFP8),
              trn3->published.peak_flops[TRN_HW_MXFP8].value, 0.001);
    CHECK_NEAR(trn_hw_chip_peak_flops(trn1, TRN_HW_BF16), 2 * 91.7504e12, 1);
    CHECK_NEAR(trn1->published.peak_flops[TRN_HW_BF16].value, 190e12, 0);
    CHECK_NEAR(trn1->published.peak_flops[TRN_HW_INT8].value, 380e12, 0);
    /* SBUF totals 48 / 224 / 256 MiB */
    CHECK_NEAR(trn2->published.sbuf_bytes.value,
               trn2->cores.value * 128 * trn2->core->sbuf_bytes_per_partition.value, 0);
    CHECK_NEAR(trn3->published.sbuf_bytes.value, 256 * MIB, 0);
    /* DMA 128 engines x 27.2 GB/s = 3.48 TB/s vs 3.5 published */
    CHECK_REL(trn2->cores.value * 16 * 27.2e9, trn2->published.dma_bps.value, 0.01);
    /* prices: trn1 derived from 21.50 $/h / 16; the unpublished ones are assumed */
    CHECK_NEAR(trn1->price_usd_per_chip_hour.value, 21.50 / 16, 1e-12);
    CHECK_EQ_INT(trn1->price_usd_per_chip_hour.origin, TRN_HW_DERIVED);
    CHECK_EQ_INT(trn2->price_usd_per_chip_hour.origin, TRN_HW_ASSUMED);
    CHECK_EQ_INT(trn3->price_usd_per_chip_hour.origin, TRN_HW_ASSUMED);
    CHECK_EQ_INT(trn4->price_usd_per_chip_hour.origin, TRN_HW_ASSUMED);
    /* trn4: projected, nothing in it is a direct source; roadmap ratios 3x FP8, 6x FP4, 4x BW */
    CHECK(trn4->projected && trn4->core->projected);
    CHECK(!trn3->projected && !trn3->core->projected);
    CHECK_NEAR(trn4->hbm_bw_bps.value, 4 * trn3->hbm_bw_bps.value, 1e-3);
    CHECK_REL(trn_hw_chip_peak_flops(trn4, TRN_HW_MXFP8),
              3 * trn3->published.peak_flops[TRN_HW_MXFP8].value, 0.001);
    CHECK_REL(trn_hw_chip_peak_flops(trn4, TRN_HW_MXFP4),
              6 * trn3->published.peak_flops[TRN_HW_MXFP4].value, 0.001);
}

static void test_systems(void) {
    const trn_hw_system *t1 = trn_hw_system_get(hw, "trn1.32xlarge"),
                        *t2 = trn_hw_system_get(hw, "trn2.48xlarge"),
                        *us2 = trn_hw_system_get(hw, "trn2-ultraserver"),
                        *g1 = trn_hw_system_get(hw, "trn3-gen1-ultraserver"),
                        *g2 = trn_hw_system_get(hw, "trn3-gen2-ultraserver"),
                        *uc = trn_hw_system_get(hw, "trn3-ultracluster"),
                        *p5 = trn_hw_system_get(hw, "p5.48xlarge"),
                        *nvl = trn_hw_system_get(hw, "gb200-nvl72");
    CHECK(t1 && t2 && us2 && g1 && g2 && uc && p5 && nvl);
    if (!t1 || !t2 || !us2 || !g1 || !g2 || !uc || !p5 || !nvl) return;
    /* topologies */
    CHECK_EQ_INT(t1->topology.kind, TRN_HW_TOPO_TORUS);
    CHECK_EQ_INT(t2->topology.ndims, 2);
    CHECK_EQ_INT(us2->topology.ndims, 3);
    CHECK_EQ_INT(us2->topology.dims[2], 4);
    CHECK_EQ_INT(g1->topology.kind, TRN_HW_TOPO_SWITCH);
    CHECK_EQ_INT(g2->topology.switch_levels, 2);
    CHECK_EQ_INT(uc->topology.kind, TRN_HW_TOPO_FABRIC);
    CHECK(uc->node == g2);
    CHECK(us2->node == t2);
    CHECK(p5->gpu == trn_hw_gpu_get(hw, "h100-sxm") && p5->chip == NULL);
    CHECK(g2->chip == trn_hw_chip_get(hw, "trn3") && g2->gpu == NULL);
    /* trn1.32xlarge: 16 chips, 512 GiB, 13,120 GiB/s, 3,040 TF published (2,936 derived) */
    CHECK_EQ_INT(t1->chips.value, 16);
    CHECK_NEAR(trn_hw_system_hbm_bytes(t1), t1->published.hbm_bytes.value, 0);
    CHECK_NEAR(trn_hw_system_hbm_bw_bps(t1), 13120 * GIB, 0);
    CHECK_NEAR(t1->published.peak_flops[TRN_HW_BF16].value, 3040e12, 0);
    CHECK_NEAR(trn_hw_system_peak_flops(t1, TRN_HW_BF16), 16 * 2 * 91.7504e12, 1);
    CHECK_NEAR(t1->published.price_usd_per_hour.value, 21.50, 0);
    CHECK_NEAR(trn_hw_system_price_usd_per_hour(t1), 21.50, 1e-9);
    CHECK_NEAR(t1->efa_bps.value * 16, t1->published.efa_bps.value, 0); /* 800 Gbps */
    /* trn2.48xlarge: 1.5 TiB, 46.4 TB/s; UltraServer 6 TiB, 185.6 TB/s, 83.2 PF FP8 */
    CHECK_NEAR(trn_hw_system_hbm_bytes(t2), 1.5 * TIB, 0);
    CHECK_REL(trn_hw_system_hbm_bw_bps(t2), 46.4e12, 1e-12);
    CHECK_NEAR(trn_hw_system_hbm_bytes(us2), 6 * TIB, 0);
    CHECK_REL(trn_hw_system_hbm_bw_bps(us2), us2->published.hbm_bw_bps.value, 1e-12);
    CHECK_NEAR(us2->published.peak_flops[TRN_HW_FP8].value, 83.2e15, 0);
    CHECK_NEAR(us2->scaleup_bw_bps.value, 1.28e12, 0);
    CHECK_NEAR(t2->scaleup_bw_bps.value, 1.024e12, 0);
    CHECK_NEAR(t2->efa_bps.value, 25e9, 0); /* 200 Gbps per chip [CC] */
    /* Trn3 Gen1: 64 chips, 161 PF MXFP8, 9 TiB, 313.6 TB/s */
    CHECK_EQ_INT(g1->chips.value, 64);
    CHECK_NEAR(trn_hw_system_hbm_bytes(g1), 9 * TIB, 0);
    CHECK_REL(trn_hw_system_hbm_bw_bps(g1), 313.6e12, 1e-12);
    CHECK_REL(trn_hw_system_peak_flops(g1, TRN_HW_MXFP8), 161e15, 0.001);
    /* Trn3 Gen2: 144 x 2.52 PFLOPS MXFP8 = 362 PF, 20.25 TiB, 705.6 TB/s, 28.8 Tbps EFA */
    CHECK_EQ_INT(g2->chips.value, 144);
    CHECK_NEAR(trn_hw_system_hbm_bytes(g2), 20.25 * TIB, 0);
    CHECK_NEAR(trn_hw_system_hbm_bytes(g2), g2->published.hbm_bytes.value, 0);
    CHECK_REL(trn_hw_system_hbm_bw_bps(g2), 705.6e12, 1e-12);
    CHECK_NEAR(g2->published.peak_flops[TRN_HW_MXFP8].value, 362e15, 0);
    CHECK_NEAR(trn_hw_system_peak_flops(g2, TRN_HW_MXFP8), 144 * 8 * 314.5728e12, 1e3);
    CHECK_REL(trn_hw_system_peak_flops(g2, TRN_HW_MXFP8), 362e15, 0.002);
    CHECK_NEAR(g2->efa_bps.value * 144, g2->published.efa_bps.value, 0);
    CHECK_NEAR(g2->scaleup_bw_bps.value, 2048 * GIB, 0);
    CHECK_NEAR(trn_hw_system_power_w(g2), 144 * 1000, 0);
    /* UltraCluster: up to 1M chips on EFA */
    CHECK_EQ_INT(uc->chips.value, 1000000);
    CHECK_EQ_INT(uc->scaleup_domain.value, 144);
    /* GPU systems: 8 x H100 and the NVL72 rack's published dense figures */
    CHECK_NEAR(trn_hw_system_peak_flops(p5, TRN_HW_BF16), 8 * 989.5e12, 1);
    CHECK_NEAR(trn_hw_system_hbm_bytes(p5), p5->published.hbm_bytes.value, 0);
    CHECK_NEAR(p5->published.price_usd_per_hour.value, 54.08, 0);
    CHECK_NEAR(trn_hw_system_peak_flops(nvl, TRN_HW_BF16),
               nvl->published.peak_flops[TRN_HW_BF16].value, 1);
    CHECK_NEAR(trn_hw_system_peak_flops(nvl, TRN_HW_MXFP4),
               nvl->published.peak_flops[TRN_HW_MXFP4].value, 1);
    CHECK_NEAR(trn_hw_system_hbm_bw_bps(nvl), nvl->published.hbm_bw_bps.value, 0);
    CHECK_EQ_INT(nvl->scaleup_domain.value, 72);
}

static void test_gpus(void) {
    const trn_hw_gpu *h100 = trn_hw_gpu_get(hw, "h100-sxm"), *h200 = trn_hw_gpu_get(hw, "h200"),
                     *b200 = trn_hw_gpu_get(hw, "b200"), *gb200 = trn_hw_gpu_get(hw, "gb200");
    CHECK(h100 && h200 && b200 && gb200);
    if (!h100 || !h200 || !b200 || !gb200) return;
    CHECK_NEAR(h100->peak_flops[TRN_HW_BF16].value, 989.5e12, 0);
    CHECK_NEAR(h100->peak_flops[TRN_HW_FP8].value, 1979e12, 0);
    CHECK_NEAR(h100->hbm_bytes.value, 80e9, 0);
    CHECK_NEAR(h100->hbm_bw_bps.value, 3.35e12, 0);
    CHECK_NEAR(h100->nvlink_bw_bps.value, 900e9, 0);
    CHECK_NEAR(h100->power_w.value, 700, 0);
    CHECK(strncmp(h100->hbm_bw_bps.source, "https://www.nvidia.com/", 23) == 0);
    CHECK_NEAR(h200->peak_flops[TRN_HW_BF16].value, h100->peak_flops[TRN_HW_BF16].value, 0);
    CHECK_NEAR(h200->hbm_bytes.value, 141e9, 0);
    CHECK_NEAR(h200->hbm_bw_bps.value, 4.8e12, 0);
    CHECK_NEAR(b200->peak_flops[TRN_HW_BF16].value, 2.25e15, 0);
    CHECK_NEAR(b200->peak_flops[TRN_HW_FP8].value, 4.5e15, 0);
    CHECK_NEAR(b200->peak_flops[TRN_HW_MXFP4].value, 9e15, 0);
    CHECK_NEAR(b200->nvlink_bw_bps.value, 1.8e12, 0);
    CHECK_NEAR(b200->power_w.value, 1000, 0);
    CHECK_NEAR(gb200->power_w.value, 1200, 0);
    CHECK_EQ_INT(h100->peak_flops[TRN_HW_MXFP4].origin, TRN_HW_ABSENT);
    CHECK_EQ_INT(b200->price_usd_per_gpu_hour.origin, TRN_HW_ASSUMED);
    CHECK_EQ_INT(gb200->price_usd_per_gpu_hour.origin, TRN_HW_ASSUMED);
    CHECK_NEAR(h100->price_usd_per_gpu_hour.value * 8, 54.08, 1e-9);
}

/* The keys of trainium-facts.md section 0: every "source" must be one of them or a URL. */
static const char *const fact_keys[] = {
    "TRN1",    "TRN1-OLD", "TRN2",     "TRN3",         "INF2",          "NC2",      "NC3",
    "NC4",     "TRN1-SYS", "TRN2-SYS", "TRN2-SYS-OLD", "TRN3-SYS",      "INF2-SYS", "LNC",
    "DTYPES",  "ROUND",    "AG2",      "AG3",          "AG4",           "PERF",     "DMABW",
    "DMAOV",   "DGE",      "MXG",      "APS",          "MEM",           "TILE",     "NKILNC",
    "LANG",    "ISA",      "ISA-OLD",  "COMMON",       "TSIZE",         "NLANG",    "NCOLL",
    "SIM",     "CC",       "CCINTRA",  "CCINTER",      "OVERLAP",       "DEVMEM",   "NEFF",
    "CLI",     "PROF",     "PSCHEMA",  "PROF-OLD",     "PTNAT",         "MOE",      "BENCH-PRICE",
    "CB-DOC",  "NP",       "NAND",     "TH",           "AIW",           "TWY",      "HYP",
    "SA2",     "SA3",      "DCD",      "FIERCE",       "USAGE",         "USAGE2",   "FM",
    "AWSNEG",  "CBP",      "GPUE",     "TAD",          "TRN1-SYS-2022", "SN",       "NP2",
    "TEAMAWS",
};

static int known_key(const char *s, size_t n) {
    for (size_t i = 0; i < sizeof fact_keys / sizeof fact_keys[0]; i++)
        if (strlen(fact_keys[i]) == n && strncmp(fact_keys[i], s, n) == 0) return 1;
    return 0;
}

/* Every "[A, B]" in a text names known keys. */
static int brackets_ok(const char *t) {
    for (const char *p = strchr(t, '['); p; p = strchr(p + 1, '[')) {
        const char *end = strchr(p, ']');
        if (!end) return 0;
        const char *k = p + 1;
        while (k < end) {
            while (*k == ' ' || *k == ',') k++;
            const char *e = k;
            while (e < end && *e != ',') e++;
            if (!known_key(k, (size_t)(e - k))) return 0;
            k = e;
        }
    }
    return 1;
}

static int nnums, nsourced, nderived, nassumed, nurls;

/* Walks the catalog JSON: every object with a "value" has one provenance with a non-empty
 * text, sources are known keys or URLs, bracketed keys in every text are known. */
static void walk(const cJSON *o, const char *path) {
    if (cJSON_IsObject(o) && cJSON_GetObjectItemCaseSensitive(o, "value")) {
        nnums++;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "source"),
                    *d = cJSON_GetObjectItemCaseSensitive(o, "derived"),
                    *a = cJSON_GetObjectItemCaseSensitive(o, "assumed"),
                    *n = cJSON_GetObjectItemCaseSensitive(o, "note");
        CHECK_MSG((s != NULL) + (d != NULL) + (a != NULL) == 1, "%s: one provenance", path);
        if (s) {
            nsourced++;
            const char *v = s->valuestring;
            int url = strncmp(v, "https://", 8) == 0;
            nurls += url;
            CHECK_MSG(url || known_key(v, strlen(v)), "%s: source '%s' is no key", path, v);
        }
        if (d) nderived++;
        if (a) nassumed++;
        /* a derivation or a reason says something; bracketed keys anywhere are real keys */
        const cJSON *texts[] = {d, a, n};
        for (int i = 0; i < 3; i++)
            if (texts[i])
                CHECK_MSG((i == 2 || strlen(texts[i]->valuestring) > 8) &&
                              brackets_ok(texts[i]->valuestring),
                          "%s: text '%s'", path, texts[i]->valuestring);
        return;
    }
    for (const cJSON *c = o->child; c; c = c->next) {
        char p[256];
        snprintf(p, sizeof p, "%s.%s", path, c->string ? c->string : "[]");
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) walk(c, p);
    }
}

static void test_provenance(void) {
    char *text = NULL;
    trn_err err = {0};
    CHECK_EQ_INT(trn_hw_to_json(hw, NULL, &text, &err), TRN_OK);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    if (root) walk(root, "$");
    /* the catalog is large and mostly sourced */
    CHECK_MSG(nnums > 400, "%d numbers", nnums);
    CHECK(nsourced > nassumed);
    CHECK(nderived > 5 && nassumed > 5 && nurls > 20);
    /* prices that are not published are assumed, and every price has a provenance */
    for (int i = 0; i < trn_hw_count(hw, TRN_HW_KIND_CHIP); i++) {
        const trn_hw_chip *c = trn_hw_at(hw, TRN_HW_KIND_CHIP, i).u.chip;
        CHECK(c->price_usd_per_chip_hour.origin != TRN_HW_ABSENT);
        if (c->price_usd_per_chip_hour.origin == TRN_HW_ASSUMED)
            CHECK(strlen(c->price_usd_per_chip_hour.source) > 20);
    }
    /* the projected core version has no direct sources at all */
    const trn_hw_core *v5 = trn_hw_core_get(hw, "v5");
    CHECK(v5 && v5->projected);
    if (v5) CHECK_EQ_INT(v5->tensor_hz.origin, TRN_HW_ASSUMED);
    cJSON_Delete(root);
    free(text);
}

static void test_lookup_and_figures(void) {
    trn_hw_entry e;
    trn_err err = {0};
    CHECK_EQ_INT(trn_hw_find(hw, "TRN2", &e, &err), TRN_OK); /* case-insensitive */
    CHECK_EQ_INT(e.kind, TRN_HW_KIND_CHIP);
    CHECK(e.u.chip == trn_hw_chip_get(hw, "trn2"));
    CHECK_EQ_INT(trn_hw_find(hw, "trn9", &e, &err), TRN_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, "unknown hardware name 'trn9'");
    CHECK_CONTAINS(err.msg, "trn3-gen2-ultraserver");
    CHECK(trn_hw_chip_get(hw, "v3") == NULL); /* kinds are separate */
    CHECK(trn_hw_at(hw, TRN_HW_KIND_GPU, 99).u.gpu == NULL);
    CHECK_EQ_INT(trn_hw_count(hw, TRN_HW_KIND_CORE), 4);
    CHECK_EQ_INT(trn_hw_count(hw, TRN_HW_KIND_CHIP), 5);
    CHECK_EQ_INT(trn_hw_count(hw, TRN_HW_KIND_SYSTEM), 11);
    CHECK_EQ_INT(trn_hw_count(hw, TRN_HW_KIND_GPU), 4);
    CHECK_EQ_INT(trn_hw_dtype_from_name("MXFP8"), TRN_HW_MXFP8);
    CHECK_EQ_INT(trn_hw_dtype_from_name("fp6"), -1);
    CHECK(strcmp(trn_hw_dtype_name(TRN_HW_SPARSE), "sparse") == 0);

    /* Trn3 Gen2 figures: MXFP8 derived beside the published 362 PF */
    CHECK_EQ_INT(trn_hw_find(hw, "trn3-gen2-ultraserver", &e, &err), TRN_OK);
    trn_hw_figure rows[TRN_HW_MAX_FIGURES];
    int n = trn_hw_figures(hw, e, rows), found = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].key, "peak_flops.mxfp8") == 0) {
            found++;
            CHECK(rows[i].published && rows[i].published->value == 362e15);
            CHECK_REL(rows[i].derived, 362.4e15, 0.001);
            CHECK_CONTAINS(rows[i].formula, "144 x trn3");
        }
        if (strcmp(rows[i].key, "hbm_bytes") == 0) {
            found++;
            CHECK(rows[i].published && rows[i].published->value == rows[i].derived);
            CHECK_EQ_INT(rows[i].assumed_inputs, 0);
        }
        if (strcmp(rows[i].key, "price_usd_per_hour") == 0) {
            found++;
            CHECK_EQ_INT(rows[i].assumed_inputs, 1); /* the Trn3 chip-hour price is assumed */
            CHECK(rows[i].published == NULL);
        }
    }
    CHECK_EQ_INT(found, 3);
    /* trn1.32xlarge's price rests on the published 21.50 $/h, not on an assumption */
    CHECK_EQ_INT(trn_hw_find(hw, "trn1.32xlarge", &e, &err), TRN_OK);
    n = trn_hw_figures(hw, e, rows);
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].key, "price_usd_per_hour") == 0) {
            found++;
            CHECK_EQ_INT(rows[i].assumed_inputs, 0);
            CHECK(rows[i].published && rows[i].published->value == 21.50);
        }
    /* trn4's peaks rest on its assumed core count */
    CHECK_EQ_INT(trn_hw_find(hw, "trn4", &e, &err), TRN_OK);
    n = trn_hw_figures(hw, e, rows);
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].key, "peak_flops.bf16") == 0) {
            found++;
            CHECK_EQ_INT(rows[i].assumed_inputs, 1);
        }
    CHECK_EQ_INT(found, 5);
    /* every entry of every kind gives figures and prints without trouble */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    for (int k = 0; f && k < 4; k++)
        for (int i = 0; i < trn_hw_count(hw, (trn_hw_kind)k); i++) {
            trn_hw_entry x = trn_hw_at(hw, (trn_hw_kind)k, i);
            int m = trn_hw_figures(hw, x, rows);
            CHECK(m > 0 && m <= TRN_HW_MAX_FIGURES);
            for (int j = 0; j < m; j++)
                CHECK_MSG(isfinite(rows[j].derived) && rows[j].derived >= 0, "%s %s",
                          trn_hw_entry_name(x), rows[j].key);
            trn_hw_print_entry(hw, x, f);
        }
    if (f) {
        trn_hw_print_table(hw, f);
        long size = ftell(f);
        CHECK(size > 10000);
        char *buf = calloc(1, (size_t)size + 1);
        rewind(f);
        CHECK(buf && fread(buf, 1, (size_t)size, f) == (size_t)size);
        if (buf) {
            CHECK_CONTAINS(buf, "trn3-gen2-ultraserver");
            CHECK_CONTAINS(buf, "629.1T [667T]"); /* trn2 BF16 derived [published] */
            CHECK_CONTAINS(buf, "$3.00/h*");      /* assumed price marked */
            CHECK_CONTAINS(buf, "trn4 (projected)");
            CHECK_CONTAINS(buf, "ASSUMED: ");
        }
        free(buf);
        fclose(f);
    }
}

static void test_format(void) {
    char b[64];
    CHECK(strcmp(trn_hw_format(2.4e9, TRN_HW_UNIT_HZ, b, sizeof b), "2.4 GHz") == 0);
    CHECK(strcmp(trn_hw_format(96 * GIB, TRN_HW_UNIT_BYTES, b, sizeof b), "96 GiB") == 0);
    CHECK(strcmp(trn_hw_format(20.25 * TIB, TRN_HW_UNIT_BYTES, b, sizeof b), "20.25 TiB") == 0);
    CHECK(strcmp(trn_hw_format(224 * KIB, TRN_HW_UNIT_BYTES, b, sizeof b), "224 KiB") == 0);
    CHECK(strcmp(trn_hw_format(80e9, TRN_HW_UNIT_BYTES, b, sizeof b), "80 GB") == 0);
    CHECK(strcmp(trn_hw_format(2.9e12, TRN_HW_UNIT_BPS, b, sizeof b), "2.9 TB/s") == 0);
    CHECK(strcmp(trn_hw_format(820 * GIB, TRN_HW_UNIT_BPS, b, sizeof b), "820 GiB/s") == 0);
    CHECK(strcmp(trn_hw_format(3.4816e12, TRN_HW_UNIT_BPS, b, sizeof b), "3.482 TB/s") == 0);
    CHECK(strcmp(trn_hw_format(78.6432e12, TRN_HW_UNIT_FLOPS, b, sizeof b), "78.64 TFLOP/s") == 0);
    CHECK(strcmp(trn_hw_format(1300, TRN_HW_UNIT_NS, b, sizeof b), "1.3 us") == 0);
    CHECK(strcmp(trn_hw_format(21.5, TRN_HW_UNIT_USD_PER_HOUR, b, sizeof b), "$21.50/h") == 0);
    CHECK(strcmp(trn_hw_format(700, TRN_HW_UNIT_W, b, sizeof b), "700 W") == 0);
}

/* The whole catalog as JSON loads into a fresh catalog as overrides and changes nothing. */
static void test_roundtrip(void) {
    char *a = NULL, *b = NULL;
    trn_err err = {0};
    trn_hw *hw2 = NULL;
    CHECK_EQ_INT(trn_hw_to_json(hw, NULL, &a, &err), TRN_OK);
    CHECK_EQ_INT(trn_hw_create(&hw2, &err), TRN_OK);
    if (a && hw2) {
        CHECK_EQ_INT(trn_hw_load_string(hw2, "dump.json", a, &err), TRN_OK);
        CHECK_EQ_INT(trn_hw_to_json(hw2, NULL, &b, &err), TRN_OK);
        CHECK(b && strcmp(a, b) == 0);
        CHECK_EQ_INT(trn_hw_count(hw2, TRN_HW_KIND_SYSTEM), 11);
        /* the values now come from dump.json */
        CHECK(strcmp(trn_hw_chip_get(hw2, "trn2")->cores.file, "dump.json") == 0);
    }
    char *one = NULL;
    CHECK_EQ_INT(trn_hw_to_json(hw, "trn2", &one, &err), TRN_OK);
    cJSON *o = one ? cJSON_Parse(one) : NULL;
    CHECK(o != NULL);
    if (o) {
        CHECK(strcmp(cJSON_GetObjectItem(o, "kind")->valuestring, "chip") == 0);
        CHECK(cJSON_IsArray(cJSON_GetObjectItem(o, "figures")));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "figures")) > 5);
    }
    cJSON_Delete(o);
    free(one);
    CHECK_EQ_INT(trn_hw_to_json(hw, "nope", &one, &err), TRN_E_NOTFOUND);
    CHECK(one == NULL);
    free(a);
    free(b);
    trn_hw_destroy(hw2);
}

int main(void) {
    trn_err err = {0};
    trn_status s = trn_hw_create(&hw, &err);
    CHECK_MSG(s == TRN_OK, "trn_hw_create: %s", err.msg);
    if (s != TRN_OK) return test_summary();
    test_cores();
    test_chips();
    test_systems();
    test_gpus();
    test_provenance();
    test_lookup_and_figures();
    test_format();
    test_roundtrip();
    trn_hw_destroy(hw);
    trn_hw_destroy(NULL);
    return test_summary();
}
