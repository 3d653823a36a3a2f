/* trnsim hardware catalog: NeuronCore versions, chips, systems and GPUs as data (hw/<name>.json,
 * embedded in the binary, overridable with --hw FILE). Every number carries its provenance: a
 * source key from trainium-facts.md or a URL, a stated derivation, or an assumption with its
 * reason. The simulator and the planner read these structs; there is one place to change a
 * clock. The JSON schema is in docs/hardware.md.
 *
 * Deliberately left out: timing formulas (the core layer owns them) and anything that needs
 * the network. The catalog only stores parameters and the figures that follow from them by
 * multiplication (peak FLOP/s, totals), each beside the figure the vendor published. */
#ifndef TRNSIM_HW_H
#define TRNSIM_HW_H

#include <stdio.h>

#include "trnsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct trn_hw trn_hw;

/* Where a number comes from. */
typedef enum trn_hw_origin {
    TRN_HW_ABSENT = 0, /* not given (an optional field, or a data type a part lacks) */
    TRN_HW_SOURCED,    /* "source": a trainium-facts.md key ("AG3") or a URL */
    TRN_HW_DERIVED,    /* "derived": arithmetic on sourced figures, stated in the text */
    TRN_HW_ASSUMED,    /* "assumed": not published; the text is the reason */
} trn_hw_origin;

/* One number of the catalog with its provenance. Strings live as long as the catalog. */
typedef struct trn_hw_num {
    double value;         /* in the unit the field name says (_bytes, _bps, _hz ...) */
    trn_hw_origin origin; /* TRN_HW_ABSENT when the field was not given */
    const char *source;   /* source key or URL, derivation, or reason; NULL when absent */
    const char *note;     /* optional remark (a conflicting figure, a caveat), else NULL */
    const char *file;     /* the file the value was read from ("hw/chips.json", a --hw path) */
} trn_hw_num;

/* Data types of the peak-throughput tables. TRN_HW_SPARSE is the dense-equivalent rate of
 * structured-sparse 16-bit matmuls; TRN_HW_MXFP4 is also the GPUs' "FP4" (NVFP4/MXFP4). */
typedef enum trn_hw_dtype {
    TRN_HW_FP32,
    TRN_HW_TF32,
    TRN_HW_BF16,
    TRN_HW_FP16,
    TRN_HW_FP8,
    TRN_HW_MXFP8,
    TRN_HW_MXFP4,
    TRN_HW_INT8,
    TRN_HW_SPARSE,
    TRN_HW_NDTYPES
} trn_hw_dtype;

/* JSON key of a data type ("bf16"), or NULL when out of range. */
const char *trn_hw_dtype_name(trn_hw_dtype dt);
/* Data type for a JSON key (case-insensitive); -1 when unknown. */
int trn_hw_dtype_from_name(const char *name);

/* A NeuronCore version (v2 = Trn1/Inf2, v3 = Trn2, v4 = Trn3). trainium-facts.md §2-§3. */
typedef struct trn_hw_core {
    const char *name;        /* "v3" */
    const char *description; /* "NeuronCore-v3 (Trainium2)" */
    const char *file;        /* the file that last defined or changed the entry */
    int projected;           /* 1 for roadmap projections, not shipping hardware */
    /* memories */
    trn_hw_num partitions;               /* SBUF/PSUM partitions (128) */
    trn_hw_num sbuf_bytes_per_partition; /* SBUF bytes per partition */
    trn_hw_num psum_bytes_per_partition; /* PSUM bytes per partition */
    trn_hw_num psum_banks;               /* PSUM banks per partition */
    /* TensorE */
    trn_hw_num pe_rows, pe_cols;            /* PE array (128 x 128) */
    trn_hw_num pe_tile_min;                 /* smallest row/column tile of the PE array */
    trn_hw_num tensor_rate[TRN_HW_NDTYPES]; /* MACs per PE per TensorE cycle (bf16 = 1) */
    trn_hw_num matmul_n_max;                /* moving free size limit, FP32 PSUM output */
    trn_hw_num matmul_n_max_bf16_psum;      /* same with BF16 PSUM output (v4+), optional */
    trn_hw_num tensor_hz, vector_hz, scalar_hz, gpsimd_hz; /* engine clocks */
    trn_hw_num sync_hz;          /* Sync engine (SP) sequencer clock (not published: assumed) */
    trn_hw_num pe_min_ii_cycles; /* TensorE minimum initiation interval: the 64 of
                                    max(min(64, N_stationary), N_moving) */
    trn_hw_num pe_ls_speedup;    /* fast LoadStationary: LS of M columns takes M / this cycles */
    /* Vector/Scalar/GpSimd throughput, elements per cycle over all 128 lanes */
    trn_hw_num vector_elems_per_cycle_16bit; /* BF16/FP16 (performance modes) */
    trn_hw_num vector_elems_per_cycle;       /* other data types */
    trn_hw_num scalar_elems_per_cycle_16bit;
    trn_hw_num scalar_elems_per_cycle;
    /* VectorE performance modes by data type: elements/cycle over all lanes for the data types
     * that get them (absent: no mode for that type; all absent on v2) */
    trn_hw_num vector_mode_elems_per_cycle[TRN_HW_NDTYPES];
    trn_hw_num gpsimd_cores;           /* programmable GpSimd cores */
    trn_hw_num gpsimd_elems_per_cycle; /* all lanes, 32-bit */
    trn_hw_num registers_per_engine;   /* 32-bit sequencer registers per engine */
    /* instruction cost constants (engine cycles) */
    trn_hw_num min_ii_cycles;          /* minimum initiation interval, small tiles */
    trn_hw_num static_overhead_cycles; /* dependent / tiny back-to-back instructions */
    trn_hw_num mm_init_cycles;         /* TensorE MM_INIT latency */
    trn_hw_num gpsimd_start_cycles;    /* GpSimd kernel start */
    trn_hw_num min_ii_dynamic_cycles;  /* dynamic-offset copies */
    trn_hw_num access_overhead_cycles; /* per SBUF/PSUM access request */
    trn_hw_num sem_latency_ns;         /* cross-engine semaphore signal-to-wake (may be 0) */
    /* DMA */
    trn_hw_num dma_engines;              /* DMA engines per core */
    trn_hw_num dma_queues_per_engine;    /* queues per DMA engine */
    trn_hw_num dma_engine_bps;           /* theoretical bytes/s per engine */
    trn_hw_num dma_engine_practical_bps; /* practical peak bytes/s per engine */
    trn_hw_num dma_fixed_ns;             /* per-DMA fixed cost (descriptors, sync, start) */
    trn_hw_num hwdge_instr_ns;           /* per hardware-DGE DMA instruction (v3+), optional */
    trn_hw_num dge_instances;            /* hardware descriptor generators (0 on v2) */
    trn_hw_num dma_min_efficient_bytes;  /* bytes per partition recommended as a minimum */
    trn_hw_num dma_saturation_bytes;     /* bytes per partition that saturate the engines */
    trn_hw_num dma_sat_efficiency;       /* efficiency reached at dma_saturation_bytes */
    trn_hw_num dma_transpose_hbm_frac;   /* dma_transpose HBM->SBUF, fraction of DMA rate (v3+) */
    trn_hw_num dma_transpose_sbuf_frac;  /* dma_transpose SBUF->SBUF, fraction of DMA rate (v3+) */
    trn_hw_num core_barrier_ns; /* cross-core barrier round (core_barrier, sendrecv), v3+ */
    struct {
        trn_hw_num tensor_peak_flops[TRN_HW_NDTYPES]; /* per core, as stated */
        trn_hw_num sbuf_bytes, psum_bytes;            /* per core */
        trn_hw_num dma_bps;                           /* practical aggregate per core */
    } published;
} trn_hw_core;

/* A chip: Inferentia2, Trainium 1-3, projected Trainium4. trainium-facts.md §1. */
typedef struct trn_hw_chip {
    const char *name;         /* "trn2" */
    const char *description;  /* "Trainium2" */
    const char *file;         /* the file that last defined or changed the entry */
    int projected;            /* 1 for roadmap projections */
    const char *core_version; /* name of its NeuronCore version */
    const trn_hw_core *core;  /* resolved core_version (borrowed from the catalog) */
    trn_hw_num cores;         /* physical NeuronCores */
    trn_hw_num hbm_bytes, hbm_bw_bps, hbm_stacks;
    trn_hw_num neuronlink_gen;    /* NeuronLink generation (2, 3, 4) */
    trn_hw_num neuronlink_links;  /* links per chip */
    trn_hw_num neuronlink_bw_bps; /* all links together, bytes/s */
    trn_hw_num cc_cores;          /* collective-communication cores per chip */
    trn_hw_num power_w;           /* chip power */
    trn_hw_num price_usd_per_chip_hour;
    /* planner roofline and power model (optional; `trnsim plan` needs them) */
    trn_hw_num gemm_efficiency; /* large-GEMM fraction of the dense peak, (0, 1] */
    trn_hw_num gemm_tile;       /* tile edge of the GEMM shape quantization (elements) */
    trn_hw_num attn_efficiency; /* fused attention fraction of the 16-bit peak, (0, 1] */
    trn_hw_num mem_efficiency;  /* memory-bound ops: fraction of HBM bandwidth, (0, 1] */
    trn_hw_num idle_power_frac; /* power at idle as a fraction of power_w, (0, 1] */
    struct {
        trn_hw_num peak_flops[TRN_HW_NDTYPES]; /* dense chip peaks as stated */
        trn_hw_num sbuf_bytes;
        trn_hw_num dma_bps;
    } published;
} trn_hw_chip;

/* A GPU for comparison. Its peaks are the datasheet's dense figures. */
typedef struct trn_hw_gpu {
    const char *name;        /* "h100-sxm" */
    const char *description; /* "NVIDIA H100 SXM5 80 GB" */
    const char *file;
    int projected;
    trn_hw_num peak_flops[TRN_HW_NDTYPES]; /* dense peak per data type */
    trn_hw_num hbm_bytes, hbm_bw_bps;
    trn_hw_num nvlink_bw_bps; /* per GPU, bytes/s */
    trn_hw_num power_w;
    trn_hw_num price_usd_per_gpu_hour;
    /* planner roofline and power model (optional; `trnsim plan` needs them) */
    trn_hw_num gemm_efficiency; /* large-GEMM fraction of the dense peak, (0, 1] */
    trn_hw_num gemm_tile;       /* tile edge of the GEMM shape quantization (elements) */
    trn_hw_num attn_efficiency; /* fused attention fraction of the 16-bit peak, (0, 1] */
    trn_hw_num mem_efficiency;  /* memory-bound ops: fraction of HBM bandwidth, (0, 1] */
    trn_hw_num idle_power_frac; /* power at idle as a fraction of power_w, (0, 1] */
} trn_hw_gpu;

typedef enum trn_hw_topo_kind {
    TRN_HW_TOPO_TORUS,  /* NeuronLink torus, dims[] chips per dimension */
    TRN_HW_TOPO_SWITCH, /* all-to-all through switches (NeuronSwitch, NVSwitch), levels */
    TRN_HW_TOPO_RING,   /* a ring of chips */
    TRN_HW_TOPO_FABRIC, /* nodes joined by an EFA fabric (UltraCluster) */
} trn_hw_topo_kind;

typedef struct trn_hw_topology {
    trn_hw_topo_kind kind;
    int ndims;         /* torus: 1..4 */
    int dims[4];       /* torus: chips along each dimension */
    int switch_levels; /* switch: levels of switches between two chips (1 or 2) */
    trn_hw_num prov;   /* provenance of the topology (its value is unused) */
} trn_hw_topology;

/* A system of chips or GPUs: an instance, an UltraServer, a GPU rack, an UltraCluster. */
typedef struct trn_hw_system {
    const char *name; /* "trn2.48xlarge" */
    const char *description;
    const char *file;
    int projected;
    const char *chip_name;            /* a chip or a GPU of the catalog */
    const trn_hw_chip *chip;          /* resolved, or NULL when chip_name is a GPU */
    const trn_hw_gpu *gpu;            /* resolved, or NULL when chip_name is a chip */
    const char *node_name;            /* optional: the system this one is built of, else NULL */
    const struct trn_hw_system *node; /* resolved node_name, or NULL */
    trn_hw_num chips;                 /* chips (or GPUs) in the system */
    trn_hw_topology topology;
    trn_hw_num scaleup_domain; /* chips joined by NeuronLink/NVLink (<= chips) */
    trn_hw_num scaleup_bw_bps; /* per chip inside the domain, bytes/s */
    trn_hw_num efa_bps;        /* EFA per chip, bytes/s; optional */
    trn_hw_num hop_latency_ns; /* scale-up collective per-hop latency */
    trn_hw_num efa_latency_ns; /* EFA point-to-point latency; optional */
    trn_hw_num vcpus;          /* host vCPUs; optional */
    trn_hw_num pue;            /* data-centre power usage effectiveness (>= 1); optional */
    /* collective model (src/fabric, docs/fabric.md); optional here, required by the fabric */
    trn_hw_num scaleup_send_frac;     /* share of scaleup_bw_bps a chip sends at once (0.5:
                                         the figure counts both directions) */
    trn_hw_num scaleup_efficiency;    /* fraction of the scale-up line rate collectives reach */
    trn_hw_num msg_overhead_ns;       /* issue cost of one message (descriptor, doorbell) */
    trn_hw_num efa_efficiency;        /* fraction of the EFA/InfiniBand line rate reached */
    trn_hw_num efa_switch_latency_ns; /* one switch traversal of the scale-out fat tree */
    trn_hw_num efa_switch_radix;      /* ports per scale-out switch */
    trn_hw_num efa_oversubscription;  /* leaf down:up bandwidth ratio (1 = non-blocking) */
    struct {
        trn_hw_num peak_flops[TRN_HW_NDTYPES];
        trn_hw_num hbm_bytes, hbm_bw_bps;
        trn_hw_num efa_bps; /* whole system, bytes/s */
        trn_hw_num price_usd_per_hour;
    } published;
} trn_hw_system;

typedef enum trn_hw_kind {
    TRN_HW_KIND_CORE,
    TRN_HW_KIND_CHIP,
    TRN_HW_KIND_SYSTEM,
    TRN_HW_KIND_GPU
} trn_hw_kind;

/* One catalog entry of any kind (pointers borrowed from the catalog). */
typedef struct trn_hw_entry {
    trn_hw_kind kind;
    union {
        const trn_hw_core *core;
        const trn_hw_chip *chip;
        const trn_hw_system *system;
        const trn_hw_gpu *gpu;
    } u;
} trn_hw_entry;

/* Creates the catalog from the embedded hw/<name>.json. *out is taken by the caller
 * (trn_hw_destroy); NULL on failure. */
trn_status trn_hw_create(trn_hw **out, trn_err *err);
/* Adds or overrides entries from a JSON file (path borrowed). A field given for an existing
 * entry replaces that field; a new entry needs every required field. Errors (TRN_E_PARSE,
 * TRN_E_IO) name the file and the JSON path of the offending field; the catalog is unchanged
 * on failure. Entry pointers obtained before stay valid (their contents may change). */
trn_status trn_hw_load_file(trn_hw *hw, const char *path, trn_err *err);
/* Same for JSON text in memory; `file` names it in messages (both borrowed). */
trn_status trn_hw_load_string(trn_hw *hw, const char *file, const char *json, trn_err *err);
void trn_hw_destroy(trn_hw *hw); /* NULL is a no-op */

/* Lookups by name (case-insensitive); NULL when absent. Pointers stay valid until
 * trn_hw_destroy. */
const trn_hw_core *trn_hw_core_get(const trn_hw *hw, const char *name);
const trn_hw_chip *trn_hw_chip_get(const trn_hw *hw, const char *name);
const trn_hw_system *trn_hw_system_get(const trn_hw *hw, const char *name);
const trn_hw_gpu *trn_hw_gpu_get(const trn_hw *hw, const char *name);
/* Any entry by name. TRN_E_NOTFOUND (with the known names in err) when absent. */
trn_status trn_hw_find(const trn_hw *hw, const char *name, trn_hw_entry *out, trn_err *err);
/* Entries of one kind in catalog order: the count, and entry i (NULL when out of range). */
int trn_hw_count(const trn_hw *hw, trn_hw_kind kind);
trn_hw_entry trn_hw_at(const trn_hw *hw, trn_hw_kind kind, int i);
const char *trn_hw_entry_name(trn_hw_entry e);
const char *trn_hw_kind_name(trn_hw_kind kind); /* "core version", "chip", "system", "GPU" */

/* Derived figures (0 when the data type is not supported). */
/* TensorE peak of one core: pe_rows x pe_cols x 2 FLOP x tensor_hz x tensor_rate[dt]. */
double trn_hw_core_peak_flops(const trn_hw_core *core, trn_hw_dtype dt);
/* Chip peak: cores x trn_hw_core_peak_flops. */
double trn_hw_chip_peak_flops(const trn_hw_chip *chip, trn_hw_dtype dt);
/* System peak: chips x chip (or GPU) peak. */
double trn_hw_system_peak_flops(const trn_hw_system *sys, trn_hw_dtype dt);
/* System HBM bytes, HBM bytes/s, accelerator power (W), $/h: chips x per-chip figure. */
double trn_hw_system_hbm_bytes(const trn_hw_system *sys);
double trn_hw_system_hbm_bw_bps(const trn_hw_system *sys);
double trn_hw_system_power_w(const trn_hw_system *sys);
double trn_hw_system_price_usd_per_hour(const trn_hw_system *sys);
/* DMA efficiency (0..1] of transfers with `bytes` contiguous bytes per partition: a
 * per-buffer overhead t_d chosen so the efficiency at dma_saturation_bytes is
 * dma_sat_efficiency; eff(b) = (b / bw) / (t_d + b / bw) with bw = practical engine rate. */
double trn_hw_dma_efficiency(const trn_hw_core *core, double bytes);
/* The per-buffer overhead t_d of trn_hw_dma_efficiency, in ns. */
double trn_hw_dma_buffer_overhead_ns(const trn_hw_core *core);

typedef enum trn_hw_unit {
    TRN_HW_UNIT_COUNT,
    TRN_HW_UNIT_BYTES,
    TRN_HW_UNIT_BPS, /* bytes per second */
    TRN_HW_UNIT_HZ,
    TRN_HW_UNIT_FLOPS, /* operations per second */
    TRN_HW_UNIT_W,
    TRN_HW_UNIT_USD_PER_HOUR,
    TRN_HW_UNIT_CYCLES,
    TRN_HW_UNIT_NS,
    TRN_HW_UNIT_RATIO,
    TRN_HW_UNIT_ELEMS_PER_CYCLE,
    TRN_HW_UNIT_FLOP_PER_BYTE,
    TRN_HW_UNIT_FLOPS_PER_W,
    TRN_HW_UNIT_PER_S, /* elements (or other events) per second */
} trn_hw_unit;

/* One derived figure beside the published one. */
typedef struct trn_hw_figure {
    const char *key;   /* stable id: "peak_flops.bf16", "hbm_bytes" */
    const char *label; /* "BF16 dense peak" */
    trn_hw_unit unit;
    double derived;              /* from the parameters */
    char formula[160];           /* how: "8 cores x 78.64 TFLOP/s" */
    const trn_hw_num *published; /* the stated figure (borrowed), or NULL */
    int assumed_inputs;          /* 1 when an input of the derivation is assumed */
} trn_hw_figure;
#define TRN_HW_MAX_FIGURES 32

/* Fills rows[0..] (up to TRN_HW_MAX_FIGURES) with the derived figures of an entry and
 * returns how many. */
int trn_hw_figures(const trn_hw *hw, trn_hw_entry e, trn_hw_figure *rows);

/* Formats `v` in `unit` for people ("2.4 GHz", "96 GiB", "2.9 TB/s", "78.64 TFLOP/s") into
 * buf (borrowed, size n); returns buf. */
char *trn_hw_format(double v, trn_hw_unit unit, char *buf, size_t n);

/* The catalog as tables (core versions, chips, systems, GPUs) on f: what `trnsim info`
 * prints. Assumed values are marked with '*' and projected entries with '(projected)'. */
void trn_hw_print_table(const trn_hw *hw, FILE *f);
/* One entry in detail: every parameter with its provenance, then the derived figures beside
 * the published ones with the difference. */
void trn_hw_print_entry(const trn_hw *hw, trn_hw_entry e, FILE *f);
/* JSON of the whole catalog (name NULL: the input schema, loadable again with --hw) or of
 * one entry with its figures. *out is malloc'd and taken by the caller (free()). */
trn_status trn_hw_to_json(const trn_hw *hw, const char *name, char **out, trn_err *err);

#ifdef __cplusplus
}
#endif
#endif
