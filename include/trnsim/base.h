/* trnsim base layer: status codes, error messages, the counter-based random generator and
 * small file helpers every other layer uses.
 *
 * Deliberately left out: logging frameworks and global state. Errors travel as a trn_status
 * return value plus an optional caller-owned trn_err buffer that carries the detail a user
 * needs (file, line, field, expected vs got). */
#ifndef TRNSIM_BASE_H
#define TRNSIM_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRN_VERSION_MAJOR  0
#define TRN_VERSION_MINOR  1
#define TRN_VERSION_PATCH  0
#define TRN_VERSION_STRING "0.1.0"

typedef enum trn_status {
    TRN_OK = 0,
    TRN_E_NOMEM = -1,       /* allocation failed */
    TRN_E_IO = -2,          /* a file could not be opened, read or written */
    TRN_E_PARSE = -3,       /* malformed input file (bad JSON, bad header, wrong size) */
    TRN_E_INVALID = -4,     /* bad argument or value (unknown name, wrong shape) */
    TRN_E_RANGE = -5,       /* value outside its legal range */
    TRN_E_FAULT = -6,       /* the simulated program faulted */
    TRN_E_UNSUPPORTED = -7, /* valid request this build or hardware version cannot do */
    TRN_E_NOTFOUND = -8,    /* a named entry does not exist */
} trn_status;

/* Short English name of a status ("invalid argument"). Never NULL. */
const char *trn_status_str(trn_status s);

/* Caller-owned error detail. Functions that take a `trn_err *` (which may be NULL) fill it
 * when they return a status other than TRN_OK. */
#define TRN_ERRMSG_MAX 512
typedef struct trn_err {
    trn_status status;
    char msg[TRN_ERRMSG_MAX]; /* NUL-terminated, one line, no trailing newline */
} trn_err;

/* Records `s` and a printf-style message in `e` (borrowed, may be NULL); returns `s` so a
 * caller can write `return trn_err_set(e, TRN_E_INVALID, "...")`. */
trn_status trn_err_set(trn_err *e, trn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefixes the message already in `e` with printf-style context ("file.json: ").
 * Returns e->status (TRN_OK when e is NULL). */
trn_status trn_err_prefix(trn_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Always-on assertion for library bugs (never for bad input): prints file:line and the
 * expression, then aborts. */
#define TRN_ASSERT(x) ((x) ? (void)0 : trn_assert_fail(#x, __FILE__, __LINE__))
void trn_assert_fail(const char *expr, const char *file, int line);

/* Counter-based random generator: word `counter` of the stream `seed`. It is the
 * `counter`-th output of SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014) started at `seed`, so any element of a stream can be
 * drawn independently and results never depend on how work is split over threads. */
uint64_t trn_rng_u64(uint64_t seed, uint64_t counter);
/* The high 32 bits of trn_rng_u64(seed, counter). */
uint32_t trn_rng_u32(uint64_t seed, uint64_t counter);

/* Reads a whole file into a malloc'd buffer (taken by the caller, free() it), with a NUL
 * byte after the data so text can be parsed in place. */
trn_status trn_file_read(const char *path, void **data, size_t *size_bytes, trn_err *err);
/* Writes `size_bytes` bytes of `data` (borrowed) to `path`, replacing it. */
trn_status trn_file_write(const char *path, const void *data, size_t size_bytes, trn_err *err);

/* What a JSON value is, for "expected X, got Y" messages: its number, `a string ("...")`,
 * `an object`, `an array`, `true`, `false` or `null`. Writes into buf (n bytes) and
 * returns it. */
struct cJSON;
const char *trn_json_describe(const struct cJSON *v, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
