/* Loading hardware files over the embedded catalog (--hw): a field of an existing entry is
 * overridden alone, a new entry needs every required field, and each kind of bad input is an
 * error (TRN_E_PARSE or TRN_E_IO) that names the file and the JSON path and leaves the
 * catalog as it was.
 * LABELS: unit */
#include <unistd.h>

#include "harness.h"
#include "trnsim/hw.h"

static trn_hw *hw;
static char dir[] = "/tmp/trnsim_test_hw_XXXXXX";
static int nfile;

/* Writes text to a new file in the test directory; returns its path (static buffer ring). */
static const char *write_file(const char *text) {
    static char paths[4][256];
    char *p = paths[nfile % 4];
    snprintf(p, sizeof paths[0], "%s/hw%d.json", dir, nfile++);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

/* Loads `text` from a file and expects failure with `status` and a message containing the
 * file name and each of the given substrings. */
static void expect_error(const char *text, trn_status status, const char *sub1, const char *sub2) {
    const char *path = write_file(text);
    trn_err err = {0};
    trn_status s = trn_hw_load_file(hw, path, &err);
    CHECK_MSG(s == status, "%s: status %d, expected %d (%s)", text, s, status, err.msg);
    CHECK_CONTAINS(err.msg, path);
    if (sub1) CHECK_CONTAINS(err.msg, sub1);
    if (sub2) CHECK_CONTAINS(err.msg, sub2);
}

/* A complete new chip, to be spliced into test files. */
#define NEW_CHIP                                                             \
    "\"description\": \"test chip\", \"core_version\": \"v3\","              \
    "\"cores\": {\"value\": 4, \"assumed\": \"half a trn2\"},"               \
    "\"hbm_bytes\": {\"value\": 51539607552, \"assumed\": \"48 GiB\"},"      \
    "\"hbm_bw_bps\": {\"value\": 1.45e12, \"assumed\": \"half\"},"           \
    "\"hbm_stacks\": {\"value\": 2, \"assumed\": \"half\"},"                 \
    "\"neuronlink_gen\": {\"value\": 3, \"assumed\": \"as trn2\"},"          \
    "\"neuronlink_links\": {\"value\": 4, \"assumed\": \"as trn2\"},"        \
    "\"neuronlink_bw_bps\": {\"value\": 1.28e12, \"assumed\": \"as trn2\"}," \
    "\"cc_cores\": {\"value\": 8, \"assumed\": \"half\"},"                   \
    "\"power_w\": {\"value\": 250, \"assumed\": \"half\"},"                  \
    "\"price_usd_per_chip_hour\": {\"value\": 1.5, \"assumed\": \"half\"}"

static void test_override(void) {
    const trn_hw_core *v3 = trn_hw_core_get(hw, "v3");
    const trn_hw_chip *trn2 = trn_hw_chip_get(hw, "trn2");
    double bf16 = trn_hw_chip_peak_flops(trn2, TRN_HW_BF16);
    const char *path =
        write_file("{\"comment\": \"what if v3 ran TensorE at 3 GHz\", \"core_versions\": {\"v3\": "
                   "{\"tensor_hz\": {\"value\": 3.0e9, \"assumed\": \"architect what-if\"}}}}");
    trn_err err = {0};
    CHECK_EQ_INT(trn_hw_load_file(hw, path, &err), TRN_OK);
    /* the same entry (pointers stay valid), one field changed, its provenance with it */
    CHECK(trn_hw_core_get(hw, "v3") == v3 && trn2->core == v3);
    CHECK_NEAR(v3->tensor_hz.value, 3.0e9, 0);
    CHECK_EQ_INT(v3->tensor_hz.origin, TRN_HW_ASSUMED);
    CHECK(strcmp(v3->tensor_hz.source, "architect what-if") == 0);
    CHECK(strcmp(v3->tensor_hz.file, path) == 0);
    CHECK(strcmp(v3->file, path) == 0);
    /* the rest of v3 is untouched */
    CHECK_NEAR(v3->vector_hz.value, 0.96e9, 0);
    CHECK(strcmp(v3->vector_hz.source, "AG3") == 0);
    CHECK(strcmp(v3->vector_hz.file, "hw/neuroncores.json") == 0);
    CHECK_NEAR(v3->sbuf_bytes_per_partition.value, 229376, 0);
    CHECK_NEAR(v3->published.tensor_peak_flops[TRN_HW_BF16].value, 79e12, 0);
    /* the derived chip peak follows the clock */
    CHECK_NEAR(trn_hw_chip_peak_flops(trn2, TRN_HW_BF16), bf16 * 3.0 / 2.4, 1);

    /* a map merges per data type; published objects merge per field */
    CHECK_EQ_INT(trn_hw_load_string(hw, "map.json",
                                    "{\"chips\": {\"trn2\": {\"published\": {\"peak_flops\": "
                                    "{\"int8\": {\"value\": 1e15, \"assumed\": \"test\"}}}}}}",
                                    &err),
                 TRN_OK);
    CHECK_NEAR(trn2->published.peak_flops[TRN_HW_INT8].value, 1e15, 0);
    CHECK_NEAR(trn2->published.peak_flops[TRN_HW_BF16].value, 667e12, 0);
    CHECK_NEAR(trn2->published.sbuf_bytes.value, 224 * 1048576.0, 0);

    /* names are case-insensitive: TRN2 is trn2 */
    CHECK_EQ_INT(trn_hw_load_string(hw, "case.json",
                                    "{\"chips\": {\"TRN2\": {\"power_w\": {\"value\": 550, "
                                    "\"source\": \"SA2\"}}}}",
                                    &err),
                 TRN_OK);
    CHECK_NEAR(trn2->power_w.value, 550, 0);
    CHECK_EQ_INT(trn_hw_count(hw, TRN_HW_KIND_CHIP), 5);

    /* a system can move to another chip; its references are resolved again. Not one that
     * is the node of another system: trn2-ultraserver is built of trn2.48xlarge */
    const trn_hw_system *t1 = trn_hw_system_get(hw, "trn1.32xlarge");
    CHECK_EQ_INT(trn_hw_load_string(hw, "move.json",
                                    "{\"systems\": {\"trn1.32xlarge\": {\"chip\": \"trn2\"}}}",
                                    &err),
                 TRN_OK);
    CHECK(t1->chip == trn2);
    CHECK_EQ_INT(trn_hw_load_string(hw, "back.json",
                                    "{\"systems\": {\"trn1.32xlarge\": {\"chip\": \"trn1\"}}}",
                                    &err),
                 TRN_OK);
    CHECK(t1->chip == trn_hw_chip_get(hw, "trn1"));
    CHECK_EQ_INT(trn_hw_load_string(hw, "node.json",
                                    "{\"systems\": {\"trn2.48xlarge\": {\"chip\": \"trn3\"}}}",
                                    &err),
                 TRN_E_PARSE);
    CHECK_CONTAINS(err.msg, "node.json: $.systems.trn2-ultraserver.node: node 'trn2.48xlarge'");
    const trn_hw_system *t2 = trn_hw_system_get(hw, "trn2.48xlarge");
    CHECK(t2->chip == trn2);
    /* and (with a matching domain) change its torus */
    CHECK_EQ_INT(
        trn_hw_load_string(hw, "torus.json",
                           "{\"systems\": {\"trn2.48xlarge\": {\"topology\": {\"kind\": \"torus\", "
                           "\"dims\": [2, 8], \"assumed\": \"what-if\"}}}}",
                           &err),
        TRN_OK);
    CHECK_EQ_INT(t2->topology.dims[1], 8);
}

static void test_new_entries(void) {
    trn_err err = {0};
    /* a new chip and a new system on it, in one file: the reference resolves */
    const char *path = write_file(
        "{\"chips\": {\"trn2-half\": {" NEW_CHIP "}},"
        " \"systems\": {\"half-box\": {\"description\": \"4 half chips\", \"chip\": \"trn2-half\","
        " \"chips\": {\"value\": 4, \"assumed\": \"test\"},"
        " \"topology\": {\"kind\": \"ring\", \"assumed\": \"test\"},"
        " \"scaleup_domain\": {\"value\": 4, \"assumed\": \"test\"},"
        " \"scaleup_bw_bps\": {\"value\": 1e12, \"assumed\": \"test\"},"
        " \"hop_latency_ns\": {\"value\": 1500, \"assumed\": \"test\"}}}}");
    CHECK_EQ_INT(trn_hw_load_file(hw, path, &err), TRN_OK);
    const trn_hw_chip *c = trn_hw_chip_get(hw, "trn2-half");
    const trn_hw_system *s = trn_hw_system_get(hw, "half-box");
    CHECK(c && s);
    if (!c || !s) return;
    CHECK(c->core == trn_hw_core_get(hw, "v3"));
    CHECK(s->chip == c);
    CHECK_NEAR(trn_hw_system_peak_flops(s, TRN_HW_BF16),
               4 * 4 * trn_hw_core_peak_flops(c->core, TRN_HW_BF16), 1);
    CHECK_NEAR(trn_hw_system_hbm_bytes(s), 4 * 51539607552.0, 0);
    CHECK_EQ_INT(s->efa_bps.origin, TRN_HW_ABSENT); /* optional */
    CHECK(strcmp(s->file, path) == 0);
    trn_hw_entry e;
    CHECK_EQ_INT(trn_hw_find(hw, "half-box", &e, &err), TRN_OK);
    CHECK_EQ_INT(e.kind, TRN_HW_KIND_SYSTEM);
}

static void test_errors(void) {
    /* malformed JSON, with its line and column; an empty file */
    expect_error("{\"chips\": {\"trn2\":\n {\"cores\": }}}", TRN_E_PARSE,
                 "malformed JSON at line 2, column 12", NULL);
    expect_error("  \n", TRN_E_PARSE, "malformed JSON", "empty");
    expect_error("[1, 2]", TRN_E_PARSE, ": $: expected an object", NULL);
    /* unknown section, entry field, number-object field, data type */
    expect_error("{\"cpus\": {}}", TRN_E_PARSE, "$.cpus: unknown section", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"hbm_bw\": {\"value\": 1, \"source\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.hbm_bw: unknown field", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": 8, \"src\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.cores.src: unknown field", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"published\": {\"peak_flops\": {\"fp6\": "
                 "{\"value\": 1, \"source\": \"TRN2\"}}}}}}",
                 TRN_E_PARSE, "$.chips.trn2.published.peak_flops.fp6: unknown data type", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"published\": {\"hbm_bytes\": "
                 "{\"value\": 1, \"source\": \"TRN2\"}}}}}",
                 TRN_E_PARSE, "$.chips.trn2.published.hbm_bytes: unknown field", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": 8, \"source\": \"TRN2\"}, "
                 "\"cores\": {\"value\": 9, \"source\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.cores: duplicate field", NULL);
    /* wrong types */
    expect_error("{\"chips\": {\"trn2\": {\"cores\": 8}}}", TRN_E_PARSE,
                 "$.chips.trn2.cores: expected a number object", "got 8");
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": \"8\", \"source\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.cores: expected a positive integer, got a string",
                 NULL);
    expect_error("{\"chips\": {\"trn2\": {\"description\": 5}}}", TRN_E_PARSE,
                 "$.chips.trn2.description: expected a non-empty string", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"projected\": \"yes\"}}}", TRN_E_PARSE,
                 "$.chips.trn2.projected: expected true or false, got a string", NULL);
    expect_error("{\"chips\": [1]}", TRN_E_PARSE, "$.chips: expected an object of chips by name",
                 NULL);
    expect_error("{\"chips\": {\"trn2\": 3}}", TRN_E_PARSE,
                 "$.chips.trn2: expected a chip object, got 3", NULL);
    /* provenance: exactly one of source / derived / assumed, never empty */
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": 8}}}}", TRN_E_PARSE,
                 "$.chips.trn2.cores: needs exactly one of", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": 8, \"source\": \"TRN2\", "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.cores: needs exactly one of", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": 8, \"source\": \"\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.cores.source: expected a non-empty string", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"source\": \"TRN2\"}}}}", TRN_E_PARSE,
                 "$.chips.trn2.cores: missing \"value\"", NULL);
    /* non-positive sizes and bandwidths, non-integer counts, fractions above 1 */
    expect_error("{\"chips\": {\"trn2\": {\"hbm_bw_bps\": {\"value\": -1, \"source\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.hbm_bw_bps: expected a positive number, got -1", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"hbm_bytes\": {\"value\": 0, \"source\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.hbm_bytes: expected a positive number, got 0", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"sbuf_bytes_per_partition\": {\"value\": -4096, "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.sbuf_bytes_per_partition: expected a positive",
                 NULL);
    expect_error("{\"chips\": {\"trn2\": {\"cores\": {\"value\": 2.5, \"source\": \"TRN2\"}}}}",
                 TRN_E_PARSE, "$.chips.trn2.cores: expected a positive integer, got 2.5", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"dge_instances\": {\"value\": -1, "
                 "\"source\": \"AG3\"}}}}",
                 TRN_E_PARSE, "expected a non-negative integer, got -1", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"dma_sat_efficiency\": {\"value\": 1.5, "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "expected a fraction in (0, 1], got 1.5", NULL);
    /* the timing model's catalog constants are validated like the rest */
    expect_error("{\"core_versions\": {\"v3\": {\"pe_min_ii_cycles\": {\"value\": 0, "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.pe_min_ii_cycles: expected a positive number",
                 NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"pe_ls_speedup\": {\"value\": \"4\", "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.pe_ls_speedup: expected a positive number", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"sync_hz\": {\"value\": -1.2e9, "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.sync_hz: expected a positive number", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"sem_latency_ns\": {\"value\": -5, "
                 "\"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.sem_latency_ns: expected a non-negative number",
                 NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"sem_latency_ns\": {\"value\": 5}}}}", TRN_E_PARSE,
                 "$.core_versions.v3.sem_latency_ns: needs exactly one of", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"dma_transpose_hbm_frac\": {\"value\": 90, "
                 "\"source\": \"AG3\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.dma_transpose_hbm_frac: expected a fraction",
                 NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"dma_transpose_sbuf_frac\": {\"value\": 0, "
                 "\"source\": \"AG3\"}}}}",
                 TRN_E_PARSE, "$.core_versions.v3.dma_transpose_sbuf_frac: expected a fraction",
                 NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"vector_mode_elems_per_cycle\": {\"fp6\": "
                 "{\"value\": 512, \"assumed\": \"x\"}}}}}",
                 TRN_E_PARSE,
                 "$.core_versions.v3.vector_mode_elems_per_cycle.fp6: unknown data type", NULL);
    expect_error("{\"core_versions\": {\"v3\": {\"vector_mode_elems_per_cycle\": {\"fp8\": "
                 "{\"value\": -512, \"assumed\": \"x\"}}}}}",
                 TRN_E_PARSE, "vector_mode_elems_per_cycle.fp8: expected a positive number", NULL);
    expect_error("{\"chips\": {\"trn2\": {\"published\": {\"peak_flops\": {\"bf16\": "
                 "{\"value\": -667e12, \"source\": \"TRN2\"}}}}}}",
                 TRN_E_PARSE, "$.chips.trn2.published.peak_flops.bf16: expected a positive", NULL);
    /* a new entry needs every required field */
    expect_error("{\"chips\": {\"trn9\": {\"description\": \"x\", \"core_version\": \"v3\"}}}",
                 TRN_E_PARSE, "$.chips.trn9.cores: missing (required for a new chip)", NULL);
    expect_error("{\"gpus\": {\"x100\": {\"description\": \"x\"}}}", TRN_E_PARSE,
                 "$.gpus.x100.peak_flops: missing (required for a new GPU)", NULL);
    /* references */
    expect_error("{\"chips\": {\"trn2\": {\"core_version\": \"v9\"}}}", TRN_E_PARSE,
                 "$.chips.trn2.core_version: unknown core version 'v9'", "v2, v3");
    expect_error("{\"systems\": {\"trn2.48xlarge\": {\"chip\": \"trn9\"}}}", TRN_E_PARSE,
                 "$.systems[\"trn2.48xlarge\"].chip: unknown chip or GPU 'trn9'", "h100-sxm");
    expect_error("{\"systems\": {\"trn3-ultracluster\": {\"node\": \"nowhere\"}}}", TRN_E_PARSE,
                 "$.systems.trn3-ultracluster.node: unknown system 'nowhere'", NULL);
    expect_error("{\"systems\": {\"trn3-ultracluster\": {\"node\": \"trn2.48xlarge\"}}}",
                 TRN_E_PARSE, "node 'trn2.48xlarge' is built of other chips", NULL);
    expect_error("{\"systems\": {\"trn3-ultracluster\": {\"node\": \"trn3-ultracluster\"}}}",
                 TRN_E_PARSE, "cannot be a node", NULL);
    /* names: unique across kinds, plain characters */
    expect_error("{\"gpus\": {\"trn2\": {\"description\": \"x\"}}}", TRN_E_PARSE,
                 "$.gpus.trn2: 'trn2' is already a chip", NULL);
    expect_error("{\"chips\": {\"my chip\": {}}}", TRN_E_PARSE, "$.chips[\"my chip\"]: bad name",
                 NULL);
    /* topology */
    expect_error("{\"systems\": {\"trn1.32xlarge\": {\"topology\": {\"kind\": \"torus\", "
                 "\"source\": \"TRN1-SYS\"}}}}",
                 TRN_E_PARSE, "$.systems[\"trn1.32xlarge\"].topology.dims: missing", NULL);
    expect_error("{\"systems\": {\"trn1.32xlarge\": {\"topology\": {\"kind\": \"torus\", "
                 "\"dims\": [4, 8], \"source\": \"TRN1-SYS\"}}}}",
                 TRN_E_PARSE, "topology.dims: the torus has 32 chips but scaleup_domain is 16",
                 NULL);
    expect_error("{\"systems\": {\"trn1.32xlarge\": {\"topology\": {\"kind\": \"mesh\", "
                 "\"source\": \"TRN1-SYS\"}}}}",
                 TRN_E_PARSE, "topology.kind: expected \"torus\"", "got \"mesh\"");
    expect_error("{\"systems\": {\"trn1.32xlarge\": {\"topology\": {\"kind\": \"switch\", "
                 "\"source\": \"TRN1-SYS\"}}}}",
                 TRN_E_PARSE, "topology.switch_levels: missing", NULL);
    expect_error("{\"systems\": {\"trn1.32xlarge\": {\"scaleup_domain\": {\"value\": 32, "
                 "\"source\": \"TRN1-SYS\"}}}}",
                 TRN_E_PARSE, "scaleup_domain: 32 chips is more than the system's 16 chips", NULL);
    /* a file that cannot be read */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no-such-file.json", dir);
    trn_err err = {0};
    CHECK_EQ_INT(trn_hw_load_file(hw, missing, &err), TRN_E_IO);
    CHECK_CONTAINS(err.msg, missing);
}

/* A file that fails half-way leaves nothing behind: not its valid overrides, not its new
 * entries, not its new references. */
static void test_atomic(void) {
    const trn_hw_chip *trn3 = trn_hw_chip_get(hw, "trn3");
    const trn_hw_system *g2 = trn_hw_system_get(hw, "trn3-gen2-ultraserver");
    int nchips = trn_hw_count(hw, TRN_HW_KIND_CHIP);
    expect_error("{\"chips\": {\"trn3\": {\"hbm_bw_bps\": {\"value\": 9e12, \"assumed\": \"x\"}},"
                 " \"trn7\": {" NEW_CHIP "}},"
                 " \"systems\": {\"trn3-gen2-ultraserver\": {\"chip\": \"trn7\","
                 " \"chips\": {\"value\": -1, \"assumed\": \"x\"}}}}",
                 TRN_E_PARSE, "$.systems.trn3-gen2-ultraserver.chips: expected a positive", NULL);
    CHECK_NEAR(trn3->hbm_bw_bps.value, 4.9e12, 0);
    CHECK(strcmp(trn3->hbm_bw_bps.source, "TRN3") == 0);
    CHECK(trn_hw_chip_get(hw, "trn7") == NULL);
    CHECK_EQ_INT(trn_hw_count(hw, TRN_HW_KIND_CHIP), nchips);
    CHECK(g2->chip == trn3);
    CHECK(strcmp(g2->chip_name, "trn3") == 0);
    /* a bad reference found after parsing rolls back too */
    expect_error("{\"chips\": {\"trn3\": {\"cores\": {\"value\": 16, \"assumed\": \"x\"},"
                 " \"core_version\": \"v7\"}}}",
                 TRN_E_PARSE, "unknown core version 'v7'", NULL);
    CHECK_EQ_INT(trn3->cores.value, 8);
    CHECK(trn3->core == trn_hw_core_get(hw, "v4"));
    CHECK(strcmp(trn3->core_version, "v4") == 0);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    trn_err err = {0};
    trn_status s = trn_hw_create(&hw, &err);
    CHECK_MSG(s == TRN_OK, "trn_hw_create: %s", err.msg);
    if (s == TRN_OK) {
        test_errors();
        test_atomic();
        test_override();
        test_new_entries();
    }
    trn_hw_destroy(hw);
    for (int i = 0; i < nfile; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/hw%d.json", dir, i);
        remove(p);
    }
    rmdir(dir);
    return test_summary();
}
