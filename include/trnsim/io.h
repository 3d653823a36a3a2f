/* trnsim base layer: array files shared by everyone. `.npy` (NumPy format 1.0/2.0/3.0) for
 * kernel inputs and outputs, `.safetensors` (Hugging Face) for model weights.
 *
 * Element types here are file types, not simulator types: the base layer does not depend on
 * num, so the CLI and core map trn_io_type to trn_dtype. Data is always little-endian and in
 * row-major (C) order in memory.
 *
 * Deliberately left out: .npz archives, structured/complex/string NumPy dtypes, big-endian
 * data, sharded checkpoints (model.safetensors.index.json is plain JSON for the caller). */
#ifndef TRNSIM_IO_H
#define TRNSIM_IO_H

#include <stddef.h>
#include <stdint.h>

#include "trnsim/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element type of an array in a file. */
typedef enum trn_io_type {
    TRN_IO_F32,
    TRN_IO_F16,
    TRN_IO_BF16, /* .safetensors only: NumPy has no bfloat16 */
    TRN_IO_F64,
    TRN_IO_F8_E4M3, /* OCP E4M3FN bits; .safetensors only */
    TRN_IO_F8_E5M2, /* OCP E5M2 bits; .safetensors only */
    TRN_IO_I8,
    TRN_IO_I16,
    TRN_IO_I32,
    TRN_IO_I64,
    TRN_IO_U8,
    TRN_IO_U16,
    TRN_IO_U32,
    TRN_IO_U64,
    TRN_IO_BOOL, /* one byte, 0 or 1 */
    TRN_IO_TYPE_COUNT
} trn_io_type;

/* The safetensors name of `t` ("F32", "BF16", "U8", ...); "?" when out of range. */
const char *trn_io_type_name(trn_io_type t);
/* Bytes per element of `t` (1, 2, 4 or 8); 0 when out of range. */
size_t trn_io_type_size(trn_io_type t);
/* The type whose safetensors name is `name` (exact, upper case). TRN_E_NOTFOUND when none;
 * `t` is untouched then. */
trn_status trn_io_type_from_name(const char *name, trn_io_type *t);
/* The NumPy descr `t` is written with ("<f4", "|u1", "|b1", ...), or NULL when NumPy has no
 * such type (BF16, F8). */
const char *trn_io_type_npy_descr(trn_io_type t);

/* Most dimensions an array may have. Files with more are rejected (TRN_E_UNSUPPORTED). */
#define TRN_IO_MAX_RANK 8

/* A dense row-major array that owns its data. A zeroed struct is a valid empty value. */
typedef struct trn_array {
    trn_io_type type;
    int rank;                       /* 0 (a scalar) .. TRN_IO_MAX_RANK */
    int64_t shape[TRN_IO_MAX_RANK]; /* elements per dimension, outermost first; >= 0 */
    void *data;                     /* malloc'd, owned; never NULL after a successful init
                                       or read, even when nbytes == 0 */
    size_t nbytes;                  /* elements x trn_io_type_size(type) */
} trn_array;

/* Elements in an array of `rank` dimensions `shape` (1 for rank 0), or -1 when the count or
 * its size in bytes for an 8-byte type would not fit in int64. */
int64_t trn_shape_elems(int rank, const int64_t *shape);
/* Sets up `a` with zeroed data for `type` and `shape` (borrowed, `rank` entries).
 * TRN_E_INVALID for a bad type/rank/negative dimension, TRN_E_RANGE when the size overflows,
 * TRN_E_NOMEM. On failure `a` is left zeroed. */
trn_status trn_array_init(trn_array *a, trn_io_type type, int rank, const int64_t *shape,
                          trn_err *err);
/* Frees a's data and zeroes it; NULL or a zeroed array is a no-op. */
void trn_array_fini(trn_array *a);
/* Number of elements of `a` (1 for rank 0). */
int64_t trn_array_elems(const trn_array *a);

/* ---- .npy ---------------------------------------------------------------------------- */

/* Reads a NumPy .npy file (format 1.0, 2.0 or 3.0) into `out` (zeroed first; owned by the
 * caller, release with trn_array_fini). Supported descrs: '<f2' '<f4' '<f8' '|i1' '<i2' '<i4'
 * '<i8' '|u1' '<u2' '<u4' '<u8' '|b1' (one-byte types also with '<'). A file written with
 * fortran_order True is transposed on the way in, so `out` is always row-major with the
 * file's shape. The header is checked in full and the data must be exactly shape x itemsize
 * bytes (no truncation, no trailing bytes).
 * Returns TRN_E_IO (cannot open/read), TRN_E_PARSE (bad magic, malformed header, wrong data
 * size), TRN_E_UNSUPPORTED (unknown version, big-endian/complex/structured descr, rank > 8),
 * TRN_E_RANGE (shape product overflows), TRN_E_NOMEM. Messages start with the path. */
trn_status trn_npy_read(const char *path, trn_array *out, trn_err *err);

/* Writes `a` (borrowed) to `path` byte for byte as np.save (NumPy >= 1.24) would: format 1.0
 * (a header of at most 8 dimensions always fits its 16-bit length, so 2.0 never arises), keys
 * sorted, 21 - digits spaces of room to grow the first axis, data starting at a multiple of 64
 * bytes, little-endian, C order. TRN_E_UNSUPPORTED for BF16 and
 * F8 (NumPy has no such dtype), TRN_E_INVALID for an inconsistent array, TRN_E_IO. A failed
 * write removes the partial file. */
trn_status trn_npy_write(const char *path, const trn_array *a, trn_err *err);

/* ---- .safetensors -------------------------------------------------------------------- */

/* One tensor of a .safetensors file. */
typedef struct trn_tensor_info {
    const char *name; /* owned by the file handle */
    trn_io_type type;
    int rank;
    int64_t shape[TRN_IO_MAX_RANK];
    uint64_t begin_bytes; /* data_offsets[0], relative to the start of the data buffer */
    uint64_t end_bytes;   /* data_offsets[1]; end - begin = elements x itemsize */
} trn_tensor_info;

/* An open .safetensors file: the parsed, validated header and the open file descriptor. */
typedef struct trn_safetensors trn_safetensors;

/* Opens `path`, reads only its header and validates it against the file: header size within
 * the file and at most 100 MB, JSON object, every tensor with a known dtype, a shape of
 * non-negative integers, data_offsets [begin, end] with end - begin = elements x itemsize,
 * inside the data buffer; names unique; tensors not overlapping and, as the reference
 * implementation requires, covering the data buffer with no gap; __metadata__ (optional) an
 * object of strings. Tensor data is not read.
 * Returns TRN_E_IO, TRN_E_PARSE, TRN_E_UNSUPPORTED (rank > 8), TRN_E_NOMEM with a message
 * naming the file and, where there is one, the tensor. *out is NULL on failure. */
trn_status trn_safetensors_open(const char *path, trn_safetensors **out, trn_err *err);
/* Closes the file and frees everything, names included. NULL is a no-op. */
void trn_safetensors_close(trn_safetensors *st);

/* The path given to open (owned by `st`). */
const char *trn_safetensors_path(const trn_safetensors *st);
/* Number of tensors. */
size_t trn_safetensors_count(const trn_safetensors *st);
/* Tensor `i` in the order of the file's header (0 <= i < count); NULL when out of range. */
const trn_tensor_info *trn_safetensors_tensor(const trn_safetensors *st, size_t i);
/* The tensor called `name`, in O(log n). TRN_E_NOTFOUND, with the tensor count and the first
 * names in the message, when there is none; *t is NULL then. */
trn_status trn_safetensors_find(const trn_safetensors *st, const char *name,
                                const trn_tensor_info **t, trn_err *err);
/* Like find, and also checks the type and shape (`shape` borrowed, `rank` entries).
 * TRN_E_NOTFOUND or TRN_E_INVALID ("file: tensor 'w': shape [2, 3], expected [3, 2]"). */
trn_status trn_safetensors_expect(const trn_safetensors *st, const char *name, trn_io_type type,
                                  int rank, const int64_t *shape, const trn_tensor_info **t,
                                  trn_err *err);

/* Number of __metadata__ entries, and entry `i` (strings owned by `st`; NULL when out of
 * range). */
size_t trn_safetensors_meta_count(const trn_safetensors *st);
const char *trn_safetensors_meta_key(const trn_safetensors *st, size_t i);
const char *trn_safetensors_meta_value(const trn_safetensors *st, size_t i);
/* The metadata value for `key`, or NULL when absent. */
const char *trn_safetensors_meta(const trn_safetensors *st, const char *key);

/* Reads the bytes of tensor `t` (borrowed, from this file) into `dst` (borrowed, at least
 * `dst_bytes` = end - begin bytes) with positioned reads, so several threads may read at once
 * and only this tensor is touched. TRN_E_INVALID when dst_bytes is wrong, TRN_E_IO when the
 * file changed under us. */
trn_status trn_safetensors_read(const trn_safetensors *st, const trn_tensor_info *t, void *dst,
                                size_t dst_bytes, trn_err *err);
/* Reads tensor `name` into `out` (zeroed first; owned by the caller). TRN_E_NOTFOUND,
 * TRN_E_IO, TRN_E_NOMEM. */
trn_status trn_safetensors_read_array(const trn_safetensors *st, const char *name, trn_array *out,
                                      trn_err *err);

/* A tensor to write: `array` is borrowed. */
typedef struct trn_named_array {
    const char *name;
    const trn_array *array;
} trn_named_array;

/* A __metadata__ entry: both strings borrowed. */
typedef struct trn_kv {
    const char *key;
    const char *value;
} trn_kv;

/* Writes `n` tensors (borrowed) and `n_meta` metadata entries (borrowed; n_meta may be 0 and
 * meta NULL) to `path` as the reference implementation does: compact JSON header padded with
 * spaces to a multiple of 8 bytes, tensors laid out back to back, largest element size first
 * and by name within a size (so every tensor is aligned to its element size), header entries
 * in that same order after __metadata__. TRN_E_INVALID for an empty or duplicate name or an
 * inconsistent array, TRN_E_IO. A failed write removes the partial file. */
trn_status trn_safetensors_write(const char *path, const trn_named_array *tensors, size_t n,
                                 const trn_kv *meta, size_t n_meta, trn_err *err);

#ifdef __cplusplus
}
#endif
#endif
