/* Base layer: status names, error messages, the counter-based random stream, file I/O.
 * LABELS: unit */
#include <unistd.h>

#include "harness.h"
#include "trnsim/base.h"

int main(void) {
    /* SplitMix64 reference outputs for seed 0 (Steele et al. 2014; the first outputs of the
     * published generator started at 0). */
    CHECK_EQ_HEX(trn_rng_u64(0, 0), 0xe220a8397b1dcdafULL);
    CHECK_EQ_HEX(trn_rng_u64(0, 1), 0x6e789e6aa1b965f4ULL);
    CHECK_EQ_HEX(trn_rng_u64(0, 2), 0x06c45d188009454fULL);
    CHECK_EQ_HEX(trn_rng_u32(0, 0), 0xe220a839u);
    /* Counter-based: drawing word 1000 directly equals walking the stream. */
    uint64_t s = 12345, z = s;
    uint64_t walked = 0;
    for (int i = 0; i <= 1000; i++) {
        z += 0x9E3779B97F4A7C15ULL;
        uint64_t w = z;
        w = (w ^ (w >> 30)) * 0xBF58476D1CE4E5B9ULL;
        w = (w ^ (w >> 27)) * 0x94D049BB133111EBULL;
        walked = w ^ (w >> 31);
    }
    CHECK_EQ_HEX(trn_rng_u64(s, 1000), walked);

    trn_err e = {0};
    CHECK_EQ_INT(trn_err_set(&e, TRN_E_PARSE, "line %d", 7), TRN_E_PARSE);
    trn_err_prefix(&e, "%s: ", "f.json");
    CHECK(strcmp(e.msg, "f.json: line 7") == 0);
    CHECK(strcmp(trn_status_str(TRN_E_NOTFOUND), "not found") == 0);

    void *data;
    size_t n;
    CHECK_EQ_INT(trn_file_read("/nonexistent/x", &data, &n, &e), TRN_E_IO);
    CHECK_CONTAINS(e.msg, "/nonexistent/x");
    char path[] = "/tmp/trn_test_base_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(trn_file_write(path, "hello", 5, &e), TRN_OK);
    CHECK_EQ_INT(trn_file_read(path, &data, &n, &e), TRN_OK);
    CHECK_EQ_INT(n, 5);
    CHECK(memcmp(data, "hello", 6) == 0);
    free(data);
    remove(path);
    return test_summary();
}
