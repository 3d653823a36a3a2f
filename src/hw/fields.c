/* The field tables of the four entry kinds: one row per JSON key, with its C member, whether
 * it is required, how it is checked and its unit. Loading, validation, JSON output and the
 * detailed listing all walk these tables, so a new field is one row here plus one member in
 * include/trnsim/hw.h. */
#include "hw_impl.h"

#include <stddef.h>

#define NUM(T, key, flags, unit, label) \
    { #key, FK_NUM, offsetof(T, key), (flags), TRN_HW_UNIT_##unit, label, NULL }
#define PUB(T, key, flags, unit, label) \
    { #key, FK_NUM, offsetof(T, published.key), (flags), TRN_HW_UNIT_##unit, label, NULL }
#define END \
    { NULL, FK_STR, 0, 0, TRN_HW_UNIT_COUNT, NULL, NULL }

/* ---- NeuronCore versions ---------------------------------------------------------------- */

static const hw_field core_published[] = {
    {"tensor_peak_flops", FK_MAP, offsetof(trn_hw_core, published.tensor_peak_flops), 0,
     TRN_HW_UNIT_FLOPS, "TensorE peak per core", NULL},
    PUB(trn_hw_core, sbuf_bytes, 0, BYTES, "SBUF per core"),
    PUB(trn_hw_core, psum_bytes, 0, BYTES, "PSUM per core"),
    PUB(trn_hw_core, dma_bps, 0, BPS, "DMA bandwidth per core"),
    END,
};

static const hw_field core_fields[] = {
    {"description", FK_STR, offsetof(trn_hw_core, description), F_REQ, TRN_HW_UNIT_COUNT,
     "description", NULL},
    {"projected", FK_BOOL, offsetof(trn_hw_core, projected), 0, TRN_HW_UNIT_COUNT, "projected",
     NULL},
    NUM(trn_hw_core, partitions, F_REQ | F_INT, COUNT, "partitions"),
    NUM(trn_hw_core, sbuf_bytes_per_partition, F_REQ, BYTES, "SBUF per partition"),
    NUM(trn_hw_core, psum_bytes_per_partition, F_REQ, BYTES, "PSUM per partition"),
    NUM(trn_hw_core, psum_banks, F_REQ | F_INT, COUNT, "PSUM banks"),
    NUM(trn_hw_core, pe_rows, F_REQ | F_INT, COUNT, "PE array rows"),
    NUM(trn_hw_core, pe_cols, F_REQ | F_INT, COUNT, "PE array columns"),
    NUM(trn_hw_core, pe_tile_min, F_REQ | F_INT, COUNT, "smallest PE row/column tile"),
    {"tensor_rate", FK_MAP, offsetof(trn_hw_core, tensor_rate), F_REQ, TRN_HW_UNIT_RATIO,
     "MACs per PE per cycle", NULL},
    NUM(trn_hw_core, matmul_n_max, F_REQ | F_INT, COUNT, "matmul moving free size max"),
    NUM(trn_hw_core, matmul_n_max_bf16_psum, F_INT, COUNT,
        "matmul moving free size max, BF16 PSUM"),
    NUM(trn_hw_core, tensor_hz, F_REQ, HZ, "TensorE clock"),
    NUM(trn_hw_core, vector_hz, F_REQ, HZ, "VectorE clock"),
    NUM(trn_hw_core, scalar_hz, F_REQ, HZ, "ScalarE clock"),
    NUM(trn_hw_core, gpsimd_hz, F_REQ, HZ, "GpSimdE clock"),
    NUM(trn_hw_core, sync_hz, F_REQ, HZ, "Sync engine (SP) clock"),
    NUM(trn_hw_core, pe_min_ii_cycles, F_REQ, CYCLES, "TensorE minimum initiation interval"),
    NUM(trn_hw_core, pe_ls_speedup, F_REQ, RATIO, "fast LoadStationary speed-up"),
    NUM(trn_hw_core, vector_elems_per_cycle_16bit, F_REQ, ELEMS_PER_CYCLE,
        "VectorE elements/cycle, BF16/FP16"),
    NUM(trn_hw_core, vector_elems_per_cycle, F_REQ, ELEMS_PER_CYCLE,
        "VectorE elements/cycle, other types"),
    NUM(trn_hw_core, scalar_elems_per_cycle_16bit, F_REQ, ELEMS_PER_CYCLE,
        "ScalarE elements/cycle, BF16/FP16"),
    NUM(trn_hw_core, scalar_elems_per_cycle, F_REQ, ELEMS_PER_CYCLE,
        "ScalarE elements/cycle, other types"),
    {"vector_mode_elems_per_cycle", FK_MAP, offsetof(trn_hw_core, vector_mode_elems_per_cycle), 0,
     TRN_HW_UNIT_ELEMS_PER_CYCLE, "VectorE performance-mode elements/cycle", NULL},
    NUM(trn_hw_core, gpsimd_cores, F_REQ | F_INT, COUNT, "GpSimd cores"),
    NUM(trn_hw_core, gpsimd_elems_per_cycle, F_REQ, ELEMS_PER_CYCLE, "GpSimdE elements/cycle"),
    NUM(trn_hw_core, registers_per_engine, F_REQ | F_INT, COUNT, "registers per engine"),
    NUM(trn_hw_core, min_ii_cycles, F_REQ, CYCLES, "MIN_II"),
    NUM(trn_hw_core, static_overhead_cycles, F_REQ, CYCLES, "static instruction overhead"),
    NUM(trn_hw_core, mm_init_cycles, F_REQ, CYCLES, "MM_INIT latency"),
    NUM(trn_hw_core, gpsimd_start_cycles, F_REQ, CYCLES, "GpSimd start"),
    NUM(trn_hw_core, min_ii_dynamic_cycles, F_REQ, CYCLES, "MIN_II, dynamic offsets"),
    NUM(trn_hw_core, access_overhead_cycles, F_REQ, CYCLES, "SBUF/PSUM access overhead"),
    NUM(trn_hw_core, sem_latency_ns, F_REQ | F_ZERO, NS, "semaphore latency"),
    NUM(trn_hw_core, dma_engines, F_REQ | F_INT, COUNT, "DMA engines"),
    NUM(trn_hw_core, dma_queues_per_engine, F_REQ | F_INT, COUNT, "DMA queues per engine"),
    NUM(trn_hw_core, dma_engine_bps, F_REQ, BPS, "DMA engine rate, theoretical"),
    NUM(trn_hw_core, dma_engine_practical_bps, F_REQ, BPS, "DMA engine rate, practical"),
    NUM(trn_hw_core, dma_fixed_ns, F_REQ, NS, "DMA fixed cost"),
    NUM(trn_hw_core, hwdge_instr_ns, 0, NS, "hardware DGE instruction"),
    NUM(trn_hw_core, dge_instances, F_REQ | F_INT | F_ZERO, COUNT, "hardware DGE instances"),
    NUM(trn_hw_core, dma_min_efficient_bytes, F_REQ, BYTES, "DMA bytes/partition, recommended min"),
    NUM(trn_hw_core, dma_saturation_bytes, F_REQ, BYTES, "DMA bytes/partition, saturation"),
    NUM(trn_hw_core, dma_sat_efficiency, F_REQ | F_FRAC, RATIO, "DMA efficiency at saturation"),
    NUM(trn_hw_core, dma_transpose_hbm_frac, F_FRAC, RATIO, "DMA transpose rate, HBM->SBUF"),
    NUM(trn_hw_core, dma_transpose_sbuf_frac, F_FRAC, RATIO, "DMA transpose rate, SBUF->SBUF"),
    NUM(trn_hw_core, core_barrier_ns, 0, NS, "cross-core barrier round"),
    {"published", FK_OBJ, 0, 0, TRN_HW_UNIT_COUNT, "published", core_published},
    END,
};

/* ---- chips ------------------------------------------------------------------------------ */

static const hw_field chip_published[] = {
    {"peak_flops", FK_MAP, offsetof(trn_hw_chip, published.peak_flops), 0, TRN_HW_UNIT_FLOPS,
     "dense peak", NULL},
    PUB(trn_hw_chip, sbuf_bytes, 0, BYTES, "SBUF per chip"),
    PUB(trn_hw_chip, dma_bps, 0, BPS, "DMA bandwidth per chip"),
    END,
};

static const hw_field chip_fields[] = {
    {"description", FK_STR, offsetof(trn_hw_chip, description), F_REQ, TRN_HW_UNIT_COUNT,
     "description", NULL},
    {"projected", FK_BOOL, offsetof(trn_hw_chip, projected), 0, TRN_HW_UNIT_COUNT, "projected",
     NULL},
    {"core_version", FK_STR, offsetof(trn_hw_chip, core_version), F_REQ | F_REF, TRN_HW_UNIT_COUNT,
     "NeuronCore version", NULL},
    NUM(trn_hw_chip, cores, F_REQ | F_INT, COUNT, "NeuronCores"),
    NUM(trn_hw_chip, hbm_bytes, F_REQ, BYTES, "HBM"),
    NUM(trn_hw_chip, hbm_bw_bps, F_REQ, BPS, "HBM bandwidth"),
    NUM(trn_hw_chip, hbm_stacks, F_REQ | F_INT, COUNT, "HBM stacks"),
    NUM(trn_hw_chip, neuronlink_gen, F_REQ | F_INT, COUNT, "NeuronLink generation"),
    NUM(trn_hw_chip, neuronlink_links, F_REQ | F_INT, COUNT, "NeuronLink links"),
    NUM(trn_hw_chip, neuronlink_bw_bps, F_REQ, BPS, "NeuronLink bandwidth per chip"),
    NUM(trn_hw_chip, cc_cores, F_REQ | F_INT, COUNT, "CC-cores"),
    NUM(trn_hw_chip, power_w, F_REQ, W, "power"),
    NUM(trn_hw_chip, price_usd_per_chip_hour, F_REQ, USD_PER_HOUR, "price per chip-hour"),
    NUM(trn_hw_chip, gemm_efficiency, F_FRAC, RATIO, "GEMM efficiency (planner)"),
    NUM(trn_hw_chip, gemm_tile, F_INT, COUNT, "GEMM tile edge (planner)"),
    NUM(trn_hw_chip, attn_efficiency, F_FRAC, RATIO, "attention efficiency (planner)"),
    NUM(trn_hw_chip, mem_efficiency, F_FRAC, RATIO, "memory-bound efficiency (planner)"),
    NUM(trn_hw_chip, idle_power_frac, F_FRAC, RATIO, "idle power fraction"),
    {"published", FK_OBJ, 0, 0, TRN_HW_UNIT_COUNT, "published", chip_published},
    END,
};

/* ---- systems ---------------------------------------------------------------------------- */

static const hw_field system_published[] = {
    {"peak_flops", FK_MAP, offsetof(trn_hw_system, published.peak_flops), 0, TRN_HW_UNIT_FLOPS,
     "dense peak", NULL},
    PUB(trn_hw_system, hbm_bytes, 0, BYTES, "HBM"),
    PUB(trn_hw_system, hbm_bw_bps, 0, BPS, "HBM bandwidth"),
    PUB(trn_hw_system, efa_bps, 0, BPS, "EFA bandwidth"),
    PUB(trn_hw_system, price_usd_per_hour, 0, USD_PER_HOUR, "price"),
    END,
};

static const hw_field system_fields[] = {
    {"description", FK_STR, offsetof(trn_hw_system, description), F_REQ, TRN_HW_UNIT_COUNT,
     "description", NULL},
    {"projected", FK_BOOL, offsetof(trn_hw_system, projected), 0, TRN_HW_UNIT_COUNT, "projected",
     NULL},
    {"chip", FK_STR, offsetof(trn_hw_system, chip_name), F_REQ | F_REF, TRN_HW_UNIT_COUNT, "chip",
     NULL},
    {"node", FK_STR, offsetof(trn_hw_system, node_name), F_REF, TRN_HW_UNIT_COUNT, "built of",
     NULL},
    NUM(trn_hw_system, chips, F_REQ | F_INT, COUNT, "chips"),
    {"topology", FK_TOPO, offsetof(trn_hw_system, topology), F_REQ, TRN_HW_UNIT_COUNT, "topology",
     NULL},
    NUM(trn_hw_system, scaleup_domain, F_REQ | F_INT, COUNT, "scale-up domain (chips)"),
    NUM(trn_hw_system, scaleup_bw_bps, F_REQ, BPS, "scale-up bandwidth per chip"),
    NUM(trn_hw_system, efa_bps, 0, BPS, "EFA bandwidth per chip"),
    NUM(trn_hw_system, hop_latency_ns, F_REQ, NS, "scale-up per-hop latency"),
    NUM(trn_hw_system, efa_latency_ns, 0, NS, "EFA latency"),
    NUM(trn_hw_system, vcpus, F_INT, COUNT, "host vCPUs"),
    NUM(trn_hw_system, pue, 0, RATIO, "PUE"),
    NUM(trn_hw_system, scaleup_send_frac, F_FRAC, RATIO, "scale-up share sent at once"),
    NUM(trn_hw_system, scaleup_efficiency, F_FRAC, RATIO, "scale-up collective efficiency"),
    NUM(trn_hw_system, msg_overhead_ns, F_ZERO, NS, "per-message issue cost"),
    NUM(trn_hw_system, efa_efficiency, F_FRAC, RATIO, "EFA collective efficiency"),
    NUM(trn_hw_system, efa_switch_latency_ns, F_ZERO, NS, "scale-out switch latency"),
    NUM(trn_hw_system, efa_switch_radix, F_INT, COUNT, "scale-out switch radix"),
    NUM(trn_hw_system, efa_oversubscription, 0, RATIO, "scale-out leaf oversubscription"),
    {"published", FK_OBJ, 0, 0, TRN_HW_UNIT_COUNT, "published", system_published},
    END,
};

/* ---- GPUs ------------------------------------------------------------------------------- */

static const hw_field gpu_fields[] = {
    {"description", FK_STR, offsetof(trn_hw_gpu, description), F_REQ, TRN_HW_UNIT_COUNT,
     "description", NULL},
    {"projected", FK_BOOL, offsetof(trn_hw_gpu, projected), 0, TRN_HW_UNIT_COUNT, "projected",
     NULL},
    {"peak_flops", FK_MAP, offsetof(trn_hw_gpu, peak_flops), F_REQ, TRN_HW_UNIT_FLOPS, "dense peak",
     NULL},
    NUM(trn_hw_gpu, hbm_bytes, F_REQ, BYTES, "HBM"),
    NUM(trn_hw_gpu, hbm_bw_bps, F_REQ, BPS, "HBM bandwidth"),
    NUM(trn_hw_gpu, nvlink_bw_bps, F_REQ, BPS, "NVLink bandwidth per GPU"),
    NUM(trn_hw_gpu, power_w, F_REQ, W, "power"),
    NUM(trn_hw_gpu, price_usd_per_gpu_hour, F_REQ, USD_PER_HOUR, "price per GPU-hour"),
    NUM(trn_hw_gpu, gemm_efficiency, F_FRAC, RATIO, "GEMM efficiency (planner)"),
    NUM(trn_hw_gpu, gemm_tile, F_INT, COUNT, "GEMM tile edge (planner)"),
    NUM(trn_hw_gpu, attn_efficiency, F_FRAC, RATIO, "attention efficiency (planner)"),
    NUM(trn_hw_gpu, mem_efficiency, F_FRAC, RATIO, "memory-bound efficiency (planner)"),
    NUM(trn_hw_gpu, idle_power_frac, F_FRAC, RATIO, "idle power fraction"),
    END,
};

const hw_kind_info hw_kinds[HW_NKINDS] = {
    {"core_versions", "core version", sizeof(trn_hw_core), core_fields,
     offsetof(trn_hw_core, description), offsetof(trn_hw_core, file),
     offsetof(trn_hw_core, projected)},
    {"chips", "chip", sizeof(trn_hw_chip), chip_fields, offsetof(trn_hw_chip, description),
     offsetof(trn_hw_chip, file), offsetof(trn_hw_chip, projected)},
    {"systems", "system", sizeof(trn_hw_system), system_fields,
     offsetof(trn_hw_system, description), offsetof(trn_hw_system, file),
     offsetof(trn_hw_system, projected)},
    {"gpus", "GPU", sizeof(trn_hw_gpu), gpu_fields, offsetof(trn_hw_gpu, description),
     offsetof(trn_hw_gpu, file), offsetof(trn_hw_gpu, projected)},
};
