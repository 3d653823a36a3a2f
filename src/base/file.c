/* Whole-file read and write with errors that name the file. */
#include "base_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

trn_status trn_file_read(const char *path, void **data, size_t *size_bytes, trn_err *err) {
    *data = NULL;
    *size_bytes = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return trn_err_set(err, TRN_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger) {
            free(buf);
            fclose(f);
            return trn_err_set(err, TRN_E_NOMEM, "%s: out of memory", path);
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return trn_err_set(err, TRN_E_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *size_bytes = n;
    return TRN_OK;
}

trn_status trn_file_write(const char *path, const void *data, size_t size_bytes, trn_err *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return trn_err_set(err, TRN_E_IO, "%s: cannot create: %s", path, strerror(errno));
    size_t n = fwrite(data, 1, size_bytes, f);
    int bad = fclose(f) != 0;
    if (n != size_bytes || bad) return trn_err_set(err, TRN_E_IO, "%s: write failed", path);
    return TRN_OK;
}
