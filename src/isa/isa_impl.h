/* Private declarations of the isa layer: the growable arrays and error helpers the
 * assembler, loader and verifier share, and the program builder. */
#ifndef TRN_ISA_IMPL_H
#define TRN_ISA_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "trnsim/isa.h"

/* Limits that keep a bad or hostile input from exhausting memory. */
#define ISA_MAX_INSTRS  (1 << 24) /* instructions after unrolling */
#define ISA_MAX_TENSORS 65536
#define ISA_MAX_NAMES   65536 /* params, semaphores, registers */

/* Grows array *p (of *cap elements of `size` bytes) to hold at least `need`; 0 on failure. */
int isa_grow(void **p, size_t *cap, size_t need, size_t size);

/* Appends to the program's pools; each returns the index or -1 when out of memory. Capacities
 * are tracked in the builder so the program struct stays plain. */
typedef struct isa_builder {
    trn_program *p;
    size_t cap_params, cap_tensors, cap_instrs, cap_args, cap_ints, cap_floats, cap_sems, cap_regs;
} isa_builder;

trn_program *isa_program_new(void);
long isa_add_param(isa_builder *b);
long isa_add_tensor(isa_builder *b);
long isa_add_instr(isa_builder *b);
long isa_add_args(isa_builder *b, size_t n);
long isa_add_ints(isa_builder *b, size_t n);
long isa_add_floats(isa_builder *b, size_t n);
long isa_add_sem(isa_builder *b, const char *name);
long isa_add_reg(isa_builder *b, const char *name);
int isa_find_tensor(const trn_program *p, const char *name);
int isa_find_param(const trn_program *p, const char *name);
int isa_find_sem(const trn_program *p, const char *name);
int isa_find_reg(const trn_program *p, const char *name);

/* Places tensor `t` (shape, dtype set) in its memory: fills elem_bytes, bytes and addr and
 * advances the program totals (the highest end of the memory's tensors). An unplaced tensor
 * goes at the first aligned address (PSUM: the bank rule) at or above the end of every tensor
 * of its memory placed before it; a tile with t->placed keeps t->addr (an offset= given in the
 * source), which must be aligned (PSUM: within one bank, or bank-aligned when larger) and may
 * overlap other tiles. TRN_E_RANGE when a size overflows 2^48 bytes or a given offset breaks
 * the alignment; TRN_E_INVALID for a placed HBM tensor. */
trn_status isa_place_tensor(trn_program *p, trn_tensor *t, trn_err *err);
/* Bytes of one element of a tensor dtype (x4-packed: 4 codes). */
uint32_t isa_elem_bytes(trn_dtype t, int packed);
/* The dtype name as the assembler spells it ("bf16", "fp8_e4m3_x4"). */
const char *isa_dtype_name(trn_dtype t, int packed, char *buf, size_t n);
/* Parses a tensor dtype name, "_x4" suffix included; 0 when unknown. */
int isa_dtype_parse(const char *name, trn_dtype *t, int *packed);

/* Checks that the selections of `ap` fit tensor `t`; 0 and a message in msg when not. */
int isa_sel_valid(const trn_ap *ap, const trn_tensor *t, char *msg, size_t n);

/* FNV-1a 32-bit hash of `n` bytes (the .tprog checksum). */
uint32_t isa_fnv1a(const void *data, size_t n);

#endif

/* ---- lexer (lex.c) --------------------------------------------------------------------- */

typedef enum tk_type {
    TK_EOL,       /* end of a line with content */
    TK_IDENT,     /* [A-Za-z_][A-Za-z0-9_]* with inner dots before a letter ("nl.add") */
    TK_INT,       /* decimal or 0x hexadecimal, fits int64 */
    TK_FLOAT,     /* digits with a '.' or an exponent */
    TK_STRING,    /* "..." with \" and \\ escapes (raw text; isa_tok_string unescapes) */
    TK_DIRECTIVE, /* ".kernel" ... (text includes the dot) */
    TK_PUNCT,     /* one of [ ] ( ) = , : + - * / %, or 'g' for ">=", 'r' for ".." */
    TK_EOF
} tk_type;

typedef struct isa_token {
    uint8_t type;
    char punct;
    uint32_t line, col; /* 1-based */
    uint32_t off, len;  /* the token's text in the source */
    int64_t ival;
    double fval;
} isa_token;

/* Splits `text` into tokens (*toks malloc'd, taken by the caller), one TK_EOL after every line
 * that has tokens, and a final TK_EOF. Comments run from '#' to the end of the line. Errors
 * name path:line:col. */
trn_status isa_lex(const char *text, const char *path, isa_token **toks, size_t *n, trn_err *err);
/* Copies the unescaped text of a TK_STRING into buf (n bytes); 0 if it does not fit. */
int isa_tok_string(const char *text, const isa_token *t, char *buf, size_t n);
