/* trnsim exec: assemble (or load) a kernel, bind its HBM inputs from .npy files, run it on
 * one functional NeuronCore of a chip, write the requested outputs as .npy, and report how
 * long it would take (the timing model: per-engine busy time, utilization, the bound) with an
 * optional Perfetto trace. The work is in the isa and core layers; the functional run and the
 * timing model are independent, so --timing-only skips the arithmetic and gives the same
 * timeline. With --grid N the kernel runs on N cores of the chip (the chip layer): one program per
 * program_id, one shared HBM, the report per core and for the chip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trnsim/chip.h"
#include "trnsim/core.h"
#include "trnsim/timing.h"

#define MAX_BIND 64

static void help(void) {
    printf(
        "usage: trnsim exec KERNEL.(tasm|tprog) --chip NAME [--param K=V]...\n"
        "                   [--in NAME=FILE.npy]... [--out NAME=FILE.npy]... [--json]\n"
        "                   [--round rne|sr] [--seed N] [--timing-only] [--trace FILE.json]\n"
        "                   [--grid N [--lnc 1|2]]\n\n"
        "Runs a kernel on one simulated NeuronCore of chip NAME (trn1, trn2, trn3 ...): a\n"
        ".tasm is assembled first, either form is verified for the chip's core version.\n"
        "Results are bit-exact per docs/semantics.md and never depend on timing.\n\n"
        "  --chip NAME       chip of the catalog (required; `trnsim info` lists them)\n"
        "  --param K=V       override `.param K` of a .tasm (repeatable)\n"
        "  --in NAME=FILE    bind input NAME to a .npy (converted to its dtype with RNE;\n"
        "                    the shape must match exactly); every .input must be given\n"
        "  --out NAME=FILE   write output NAME as .npy (float32, or its integer type)\n"
        "  --json            print the summary and the timing report as JSON\n"
        "  --timing-only     skip the arithmetic: the timeline only (inputs not needed)\n"
        "  --trace FILE      write a Chrome/Perfetto trace (one track per engine and DMA\n"
        "                    queue; open it in ui.perfetto.dev)\n"
        "  --round rne|sr    rounding of every down-cast (default rne)\n"
        "  --seed N          stochastic rounding seed (default 0)\n"
        "  --grid N          run on N NeuronCores of the chip (1..its core count; the NKI SPMD\n"
        "                    launch): program_id 0..N-1, one shared HBM, each core its own\n"
        "                    SBUF/PSUM; the report has one row per core and the chip's total;\n"
        "                    the trace one track group per core\n"
        "  --lnc 1|2         with --grid: Logical NeuronCore size; 2 pairs programs 2k, 2k+1 and\n"
        "                    makes core_barrier ranks 0 or 1 inside the pair (trn2+); sendrecv\n"
        "                    ranks are always 0 or 1 inside the pair\n\n"
        "Exit codes: 0 success, 1 the kernel faulted (the message names the instruction,\n"
        "its source line and engine), 2 usage error, 3 bad input file.\n");
}

typedef struct bind {
    const char *name; /* borrowed from argv, NUL-terminated copy in buf */
    const char *file;
    char buf[TRN_NAME_MAX];
} bind;

static int parse_bind(const char *opt, const char *s, bind *b) {
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || !eq[1] || (size_t)(eq - s) >= TRN_NAME_MAX) {
        cli_error("exec", "%s %s: expected NAME=FILE.npy", opt, s);
        return 0;
    }
    memcpy(b->buf, s, (size_t)(eq - s));
    b->buf[eq - s] = '\0';
    b->name = b->buf;
    b->file = eq + 1;
    return 1;
}

static void shape_str(int rank, const int64_t *shape, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* Element i of a .npy array as a double. */
static double npy_value(const trn_array *a, size_t i) {
    const void *d = a->data;
    switch (a->type) {
    case TRN_IO_F32: return ((const float *)d)[i];
    case TRN_IO_F64: return ((const double *)d)[i];
    case TRN_IO_F16: return trn_f16_to_f32((trn_f16){((const uint16_t *)d)[i]});
    case TRN_IO_I8: return ((const int8_t *)d)[i];
    case TRN_IO_I16: return ((const int16_t *)d)[i];
    case TRN_IO_I32: return ((const int32_t *)d)[i];
    case TRN_IO_I64: return (double)((const int64_t *)d)[i];
    case TRN_IO_U8:
    case TRN_IO_BOOL: return ((const uint8_t *)d)[i];
    case TRN_IO_U16: return ((const uint16_t *)d)[i];
    case TRN_IO_U32: return ((const uint32_t *)d)[i];
    case TRN_IO_U64: return (double)((const uint64_t *)d)[i];
    default: return 0;
    }
}

/* The HBM a run binds: one core's, or the chip's shared one. */
typedef struct hbm_ref {
    trn_core *core;
    trn_chip *chip;
} hbm_ref;

static int hbm_find(hbm_ref h, const char *name) {
    return h.chip ? trn_chip_tensor_find(h.chip, name) : trn_core_tensor_find(h.core, name);
}

static int bind_input(hbm_ref core, const trn_program *p, const char *kpath, const bind *b) {
    int ti = hbm_find(core, b->name);
    if (ti < 0 || p->tensors[ti].role != TRN_ROLE_INPUT) {
        char lst[256] = "";
        size_t k = 0;
        for (int i = 0; i < p->ntensors && k < sizeof lst; i++)
            if (p->tensors[i].role == TRN_ROLE_INPUT)
                k += (size_t)snprintf(lst + k, sizeof lst - k, "%s%s", k ? ", " : "",
                                      p->tensors[i].name);
        cli_error("exec", "--in %s: kernel %s (%s) has no input '%s' (its inputs: %s)", b->file,
                  p->name, kpath, b->name, lst);
        return CLI_EXIT_BADINPUT;
    }
    const trn_tensor *t = &p->tensors[ti];
    trn_array a = {0};
    trn_err err = {0};
    if (trn_npy_read(b->file, &a, &err) != TRN_OK) {
        cli_error("exec", "--in %s: %s", b->name, err.msg);
        return CLI_EXIT_BADINPUT;
    }
    int same = a.rank == t->rank;
    for (int d = 0; same && d < a.rank; d++) same = a.shape[d] == t->shape[d];
    if (!same) {
        char s1[128], s2[128];
        shape_str(t->rank, t->shape, s1, sizeof s1);
        shape_str(a.rank, a.shape, s2, sizeof s2);
        cli_error("exec", "%s: input '%s' of kernel %s is %s %s, the file holds %s", b->file,
                  b->name, p->name, trn_dtype_name(t->dtype), s1, s2);
        trn_array_fini(&a);
        return CLI_EXIT_BADINPUT;
    }
    size_t n = (size_t)trn_array_elems(&a);
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        trn_array_fini(&a);
        cli_error("exec", "out of memory");
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) v[i] = npy_value(&a, i);
    trn_status s = core.chip ? trn_chip_tensor_write(core.chip, ti, v, n, &err)
                             : trn_core_tensor_write(core.core, ti, v, n, &err);
    free(v);
    trn_array_fini(&a);
    if (s != TRN_OK) {
        cli_error("exec", "%s: %s", b->file, err.msg);
        return CLI_EXIT_BADINPUT;
    }
    return CLI_EXIT_OK;
}

static trn_io_type out_type(const trn_tensor *t) {
    if (t->packed) return t->elem_bytes == 4 ? TRN_IO_U32 : TRN_IO_U16;
    switch (t->dtype) {
    case TRN_DTYPE_INT8: return TRN_IO_I8;
    case TRN_DTYPE_INT16: return TRN_IO_I16;
    case TRN_DTYPE_INT32: return TRN_IO_I32;
    case TRN_DTYPE_UINT8: return TRN_IO_U8;
    case TRN_DTYPE_UINT16: return TRN_IO_U16;
    case TRN_DTYPE_UINT32: return TRN_IO_U32;
    default: return TRN_IO_F32;
    }
}

static int write_output(hbm_ref core, const trn_program *p, const bind *b) {
    int ti = hbm_find(core, b->name);
    if (ti < 0 || p->tensors[ti].role != TRN_ROLE_OUTPUT) {
        cli_error("exec", "--out %s: kernel %s has no output '%s'", b->file, p->name, b->name);
        return CLI_EXIT_BADINPUT;
    }
    const trn_tensor *t = &p->tensors[ti];
    trn_array a = {0};
    trn_err err = {0};
    if (trn_array_init(&a, out_type(t), t->rank, t->shape, &err) != TRN_OK) {
        cli_error("exec", "--out %s: %s", b->name, err.msg);
        return CLI_EXIT_FAIL;
    }
    size_t n = (size_t)trn_array_elems(&a), un = 0;
    double *v = malloc((n ? n : 1) * sizeof *v);
    int rc = CLI_EXIT_OK;
    if (!v || (core.chip ? trn_chip_tensor_read(core.chip, ti, v, n, &un, &err)
                         : trn_core_tensor_read(core.core, ti, v, n, &un, &err)) != TRN_OK) {
        cli_error("exec", "--out %s: %s", b->name, v ? err.msg : "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (un)
        fprintf(stderr,
                "trnsim exec: warning: output '%s': %zu of %zu elements were never written "
                "(written as 0)\n",
                b->name, un, n);
    for (size_t i = 0; i < n; i++) {
        void *d = a.data;
        switch (a.type) {
        case TRN_IO_I8: ((int8_t *)d)[i] = (int8_t)v[i]; break;
        case TRN_IO_I16: ((int16_t *)d)[i] = (int16_t)v[i]; break;
        case TRN_IO_I32: ((int32_t *)d)[i] = (int32_t)v[i]; break;
        case TRN_IO_U8: ((uint8_t *)d)[i] = (uint8_t)v[i]; break;
        case TRN_IO_U16: ((uint16_t *)d)[i] = (uint16_t)v[i]; break;
        case TRN_IO_U32: ((uint32_t *)d)[i] = (uint32_t)v[i]; break;
        default: ((float *)d)[i] = (float)v[i]; break;
        }
    }
    if (trn_npy_write(b->file, &a, &err) != TRN_OK) {
        cli_error("exec", "--out %s: %s", b->name, err.msg);
        rc = CLI_EXIT_BADINPUT;
    }
done:
    free(v);
    trn_array_fini(&a);
    return rc;
}

/* The report of a --timing-only run: the timeline, no values. */
static int report_timing_only(const trn_program *p, const char *chip, const trn_isa_target *target,
                              const trn_timing *tm, int json, const char *trace) {
    if (json) {
        printf("{\"kernel\": \"%s\", \"chip\": \"%s\", \"core\": \"%s\", \"instructions\": %d, "
               "\"timing_only\": true, \"timing\": ",
               p->name, chip, target->name, p->ninstrs);
        trn_timing_print_json(tm, stdout, NULL);
        printf("}\n");
    } else {
        printf("kernel %s on %s (%s), timing only: %d instructions\n\n", p->name, chip,
               target->name, p->ninstrs);
        trn_timing_print(tm, stdout);
        if (trace) printf("trace: %s\n", trace);
    }
    return CLI_EXIT_OK;
}

/* What a grid run needs from the command line. */
typedef struct grid_args {
    const char *in, *chip;
    const trn_hw_chip *hc;
    const trn_isa_target *target;
    const trn_asm_opts *opts;
    trn_core_opts co;
    int grid, lnc, json, timing_only;
    const char *trace;
    const bind *ins, *outs;
    int nin, nout;
} grid_args;

/* `--grid N`: the kernel on N cores of the chip. */
static int exec_grid(const grid_args *a) {
    trn_err err = {0};
    trn_program *p0 = NULL;
    trn_chip *chip = NULL;
    int rc = CLI_EXIT_OK;
    /* program 0 alone first: its assembly and verification errors are the single-core ones */
    trn_asm_opts ao = *a->opts;
    ao.num_programs = a->grid;
    ao.program_id = 0;
    trn_status st = trn_program_assemble_file(a->in, &ao, &p0, &err);
    if (st != TRN_OK) {
        cli_error("exec", "%s", err.msg);
        return st == TRN_E_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_BADINPUT;
    }
    if (trn_program_verify(p0, a->target, &err) != TRN_OK) {
        cli_error("exec", "%s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    trn_chip_opts o = {a->grid, a->lnc, a->opts->overrides, a->opts->n_overrides, a->co};
    if ((st = trn_chip_assemble_file(a->hc, a->in, &o, &chip, &err)) != TRN_OK) {
        cli_error("exec", "%s%s", st == TRN_E_FAULT ? "fault: " : "", err.msg);
        rc = st == TRN_E_FAULT   ? CLI_EXIT_FAIL
             : st == TRN_E_NOMEM ? CLI_EXIT_FAIL
                                 : CLI_EXIT_BADINPUT;
        goto done;
    }
    /* the timeline first: it needs no data, and a deadlock is reported before anything runs */
    if ((st = trn_chip_time(chip, &err)) != TRN_OK) {
        cli_error("exec", "%s%s", st == TRN_E_FAULT ? "fault: " : "", err.msg);
        rc = st == TRN_E_FAULT ? CLI_EXIT_FAIL : cli_exit_for(st);
        goto done;
    }
    if (a->trace && trn_chip_write_trace(chip, a->trace, &err) != TRN_OK) {
        cli_error("exec", "--trace: %s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    const trn_program *p = trn_chip_program(chip, 0);
    if (a->timing_only) {
        if (a->json) {
            printf("{\"kernel\": \"%s\", \"chip\": \"%s\", \"core\": \"%s\", \"grid\": %d, "
                   "\"lnc\": %d, \"timing_only\": true, \"timing\": ",
                   p->name, a->chip, a->target->name, a->grid, trn_chip_lnc(chip));
            if (trn_chip_print_json(chip, stdout, &err) != TRN_OK) rc = CLI_EXIT_FAIL;
            printf("}\n");
        } else {
            printf("kernel %s on %s (%s), %d cores, timing only\n\n", p->name, a->chip,
                   a->target->name, a->grid);
            trn_chip_print(chip, stdout);
            if (a->trace) printf("trace: %s\n", a->trace);
        }
        goto done;
    }
    hbm_ref h = {NULL, chip};
    for (int i = 0; i < a->nin; i++)
        if ((rc = bind_input(h, p, a->in, &a->ins[i])) != CLI_EXIT_OK) goto done;
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        int given = 0;
        for (int j = 0; j < a->nin; j++) given |= strcmp(a->ins[j].name, t->name) == 0;
        if (t->role == TRN_ROLE_INPUT && !given) {
            cli_error("exec", "input '%s' of kernel %s was not given (use --in %s=FILE.npy)",
                      t->name, p->name, t->name);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    for (int j = 0; j < a->nout; j++) {
        int ti = trn_chip_tensor_find(chip, a->outs[j].name);
        if (ti < 0 || p->tensors[ti].role != TRN_ROLE_OUTPUT) {
            cli_error("exec", "--out %s: kernel %s has no output '%s'", a->outs[j].file, p->name,
                      a->outs[j].name);
            rc = CLI_EXIT_BADINPUT;
            goto done;
        }
    }
    st = trn_chip_run(chip, &err);
    int fcore = -1;
    const trn_fault *f = trn_chip_fault(chip, &fcore);
    if (st != TRN_OK) {
        cli_error("exec", "%s%s", f ? "fault: " : "", err.msg);
        rc = f ? CLI_EXIT_FAIL : cli_exit_for(st);
    }
    uint64_t total = 0;
    for (int e = 0; e < TRN_ENGINE_COUNT; e++)
        total += trn_chip_instr_count(chip, -1, (trn_engine)e);
    if (a->json) {
        printf("{\"kernel\": \"%s\", \"chip\": \"%s\", \"core\": \"%s\", \"grid\": %d, "
               "\"lnc\": %d, \"instructions\": %llu, \"engines\": {",
               p->name, a->chip, a->target->name, a->grid, trn_chip_lnc(chip),
               (unsigned long long)total);
        for (int e = 0; e < TRN_ENGINE_COUNT; e++)
            printf("%s\"%s\": %llu", e ? ", " : "", trn_engine_short((trn_engine)e),
                   (unsigned long long)trn_chip_instr_count(chip, -1, (trn_engine)e));
        printf("}, \"fault\": ");
        if (f)
            printf(
                "{\"core\": %d, \"instr\": %d, \"op\": \"%s\", \"engine\": \"%s\", \"line\": %u, "
                "\"unsupported\": %s}",
                fcore, f->instr, trn_isa_op_get(f->op) ? trn_isa_op_get(f->op)->name : "?",
                trn_engine_name(f->engine), (unsigned)f->line,
                f->status == TRN_E_UNSUPPORTED ? "true" : "false");
        else
            printf("null");
        printf(", \"timing\": ");
        if (trn_chip_print_json(chip, stdout, &err) != TRN_OK) rc = CLI_EXIT_FAIL;
        printf("}\n");
    } else if (st == TRN_OK) {
        printf("%s: kernel %s on %s (%s), %d cores: %llu instructions executed (", a->in, p->name,
               a->chip, a->target->name, a->grid, (unsigned long long)total);
        for (int e = 0; e < TRN_ENGINE_COUNT; e++)
            printf("%s%s %llu", e ? ", " : "", trn_engine_short((trn_engine)e),
                   (unsigned long long)trn_chip_instr_count(chip, -1, (trn_engine)e));
        printf(")\n\n");
        trn_chip_print(chip, stdout);
        if (a->trace) printf("trace: %s\n", a->trace);
    }
    if (st != TRN_OK) goto done;
    for (int j = 0; j < a->nout; j++) {
        if ((rc = write_output(h, p, &a->outs[j])) != CLI_EXIT_OK) goto done;
        if (!a->json) printf("  %s -> %s\n", a->outs[j].name, a->outs[j].file);
    }
done:
    trn_chip_destroy(chip);
    trn_program_destroy(p0);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int cmd_exec(trn_cli *cli, int argc, char **argv) {
    const char *in = NULL, *chip = NULL, *round = NULL, *seed_s = NULL, *v = NULL;
    const char *grid_s = NULL, *lnc_s = NULL;
    trn_param params[MAX_BIND];
    bind ins[MAX_BIND], outs[MAX_BIND];
    int nin = 0, nout = 0, json = 0, timing_only = 0;
    const char *trace = NULL;
    trn_asm_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        int m;
        if (cli_is_help(argv[i])) {
            help();
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--timing-only") == 0) {
            timing_only = 1;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--trace", &trace)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--chip", &chip)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--round", &round)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--seed", &seed_s)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--grid", &grid_s)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--lnc", &lnc_s)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--param", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (opts.n_overrides == MAX_BIND || !cli_parse_param(v, &params[opts.n_overrides])) {
                cli_error("exec", "--param %s: expected NAME=INTEGER (at most %d)", v, MAX_BIND);
                return CLI_EXIT_USAGE;
            }
            opts.n_overrides++;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--in", &v)) != 0) {
            if (m < 0 || nin == MAX_BIND || !parse_bind("--in", v, &ins[nin]))
                return CLI_EXIT_USAGE;
            nin++;
        } else if ((m = cli_opt("exec", argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0 || nout == MAX_BIND || !parse_bind("--out", v, &outs[nout]))
                return CLI_EXIT_USAGE;
            nout++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("exec", "unknown option '%s' (try `trnsim exec --help`)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (in) {
            cli_error("exec", "one kernel at a time (got '%s' and '%s')", in, argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            in = argv[i];
        }
    }
    if (timing_only && nout) {
        cli_error("exec", "--timing-only computes no values, so --out cannot be written");
        return CLI_EXIT_USAGE;
    }
    if (!in || !chip) {
        cli_error("exec", "%s (try `trnsim exec --help`)",
                  !in ? "no kernel given" : "--chip NAME is required");
        return CLI_EXIT_USAGE;
    }
    trn_core_opts co = {0};
    if (round && strcmp(round, "sr") == 0)
        co.round = TRN_ROUND_SR;
    else if (round && strcmp(round, "rne") != 0) {
        cli_error("exec", "--round %s: expected rne or sr", round);
        return CLI_EXIT_USAGE;
    }
    if (seed_s && !cli_parse_u64("exec", "--seed", seed_s, &co.seed)) return CLI_EXIT_USAGE;
    int tprog = ends_with(in, ".tprog");
    if (tprog && opts.n_overrides) {
        cli_error("exec", "--param applies to a .tasm; %s is already assembled", in);
        return CLI_EXIT_USAGE;
    }
    const trn_hw_chip *hc = trn_hw_chip_get(cli->hw, chip);
    trn_isa_target target;
    trn_err err = {0};
    if (!hc || !hc->core) {
        cli_error("exec", "--chip %s: no such chip in the catalog (try `trnsim info`)", chip);
        return CLI_EXIT_USAGE;
    }
    if (trn_isa_target_from_core(hc->core, &target, &err) != TRN_OK) {
        cli_error("exec", "--chip %s: %s", chip, err.msg);
        return CLI_EXIT_USAGE;
    }
    opts.core_version = target.version;
    opts.overrides = params;
    if (lnc_s && !grid_s) {
        cli_error("exec", "--lnc %s needs --grid N (the cores the kernel runs on)", lnc_s);
        return CLI_EXIT_USAGE;
    }
    if (grid_s) {
        uint64_t g = 0, l = 1;
        if (!cli_parse_u64("exec", "--grid", grid_s, &g)) return CLI_EXIT_USAGE;
        int cores = (int)hc->cores.value;
        if (g < 1 || g > (uint64_t)cores) {
            cli_error("exec", "--grid %s: chip %s has %d NeuronCores; expected 1..%d", grid_s, chip,
                      cores, cores);
            return CLI_EXIT_USAGE;
        }
        if (lnc_s && (!cli_parse_u64("exec", "--lnc", lnc_s, &l) || (l != 1 && l != 2))) {
            cli_error("exec", "--lnc %s: expected 1 or 2", lnc_s);
            return CLI_EXIT_USAGE;
        }
        if (l == 2 && target.version < 3) {
            cli_error("exec",
                      "--lnc 2: chip %s (NeuronCore-v%d) has no Logical NeuronCores (LNC=2 "
                      "needs trn2 or newer)",
                      chip, target.version);
            return CLI_EXIT_USAGE;
        }
        if (l == 2 && g % 2) {
            cli_error("exec", "--grid %s with --lnc 2: expected an even grid (whole core pairs)",
                      grid_s);
            return CLI_EXIT_USAGE;
        }
        if (tprog) {
            cli_error("exec",
                      "--grid needs the .tasm: %s holds one assembled program, the grid "
                      "assembles one per program_id",
                      in);
            return CLI_EXIT_USAGE;
        }
        grid_args ga = {in,   chip,        hc,    &target, &opts, co,  (int)g, (int)l,
                        json, timing_only, trace, ins,     outs,  nin, nout};
        return exec_grid(&ga);
    }
    trn_program *p = NULL;
    trn_core *core = NULL;
    trn_timing *tm = NULL;
    trn_status st = tprog ? trn_program_read_tprog(in, &p, &err)
                          : trn_program_assemble_file(in, &opts, &p, &err);
    if (st != TRN_OK) {
        cli_error("exec", "%s", err.msg);
        return st == TRN_E_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_BADINPUT;
    }
    int rc = CLI_EXIT_OK;
    if (p->core_version != target.version) {
        cli_error("exec", "%s was assembled for NeuronCore-v%d, chip %s has %s", in,
                  p->core_version, chip, target.name);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    if (trn_program_verify(p, &target, &err) != TRN_OK) {
        cli_error("exec", "%s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    /* The timeline first: it needs no data, and a deadlocking manual-sync kernel is reported
     * before anything runs. */
    trn_timing_opts to;
    trn_timing_opts_init(&to);
    if ((st = trn_timing_run(p, hc->core, hc, &to, &tm, &err)) != TRN_OK) {
        cli_error("exec", "%s%s", st == TRN_E_FAULT ? "fault: " : "", err.msg);
        rc = st == TRN_E_FAULT ? CLI_EXIT_FAIL : cli_exit_for(st);
        goto done;
    }
    if (trace && trn_timing_write_trace(tm, p, trace, &err) != TRN_OK) {
        cli_error("exec", "--trace: %s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    if (timing_only) {
        rc = report_timing_only(p, chip, &target, tm, json, trace);
        goto done;
    }
    if (trn_core_create(p, &target, &co, &core, &err) != TRN_OK) {
        cli_error("exec", "%s", err.msg);
        rc = cli_exit_for(err.status);
        goto done;
    }
    hbm_ref h = {core, NULL};
    for (int i = 0; i < nin; i++)
        if ((rc = bind_input(h, p, in, &ins[i])) != CLI_EXIT_OK) goto done;
    for (int i = 0; i < p->ntensors; i++) {
        const trn_tensor *t = &p->tensors[i];
        int given = 0;
        for (int j = 0; j < nin; j++) given |= strcmp(ins[j].name, t->name) == 0;
        if (t->role == TRN_ROLE_INPUT && !given) {
            cli_error("exec", "input '%s' of kernel %s was not given (use --in %s=FILE.npy)",
                      t->name, p->name, t->name);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    for (int j = 0; j < nout; j++) /* names first, so a typo fails before the run */
        if (trn_core_tensor_find(core, outs[j].name) < 0 ||
            p->tensors[trn_core_tensor_find(core, outs[j].name)].role != TRN_ROLE_OUTPUT) {
            cli_error("exec", "--out %s: kernel %s has no output '%s'", outs[j].file, p->name,
                      outs[j].name);
            rc = CLI_EXIT_BADINPUT;
            goto done;
        }
    st = trn_core_run(core, &err);
    const trn_fault *f = trn_core_fault(core);
    if (st != TRN_OK) {
        cli_error("exec", "%s%s", f ? "fault: " : "", err.msg);
        rc = f ? CLI_EXIT_FAIL : cli_exit_for(st);
    }
    if (json) {
        printf("{\"kernel\": \"%s\", \"chip\": \"%s\", \"core\": \"%s\", \"instructions\": %llu, "
               "\"engines\": {",
               p->name, chip, target.name, (unsigned long long)trn_core_instr_total(core));
        for (int e = 0; e < TRN_ENGINE_COUNT; e++)
            printf("%s\"%s\": %llu", e ? ", " : "", trn_engine_short((trn_engine)e),
                   (unsigned long long)trn_core_instr_count(core, (trn_engine)e));
        printf("}, \"fault\": ");
        if (f) {
            printf("{\"instr\": %d, \"op\": \"%s\", \"engine\": \"%s\", \"line\": %u, "
                   "\"unsupported\": %s}}\n",
                   f->instr, trn_isa_op_get(f->op) ? trn_isa_op_get(f->op)->name : "?",
                   trn_engine_name(f->engine), (unsigned)f->line,
                   f->status == TRN_E_UNSUPPORTED ? "true" : "false");
        } else {
            printf("null");
        }
        printf(", \"timing\": ");
        trn_timing_print_json(tm, stdout, NULL);
        printf("}\n");
    } else if (st == TRN_OK) {
        printf("%s: kernel %s on %s (%s): %llu instructions executed (", in, p->name, chip,
               target.name, (unsigned long long)trn_core_instr_total(core));
        for (int e = 0; e < TRN_ENGINE_COUNT; e++)
            printf("%s%s %llu", e ? ", " : "", trn_engine_short((trn_engine)e),
                   (unsigned long long)trn_core_instr_count(core, (trn_engine)e));
        printf(")\n\n");
        trn_timing_print(tm, stdout);
        if (trace) printf("trace: %s\n", trace);
    }
    if (st != TRN_OK) goto done;
    for (int j = 0; j < nout; j++) {
        if ((rc = write_output(h, p, &outs[j])) != CLI_EXIT_OK) goto done;
        if (!json) printf("  %s -> %s\n", outs[j].name, outs[j].file);
    }
done:
    trn_timing_destroy(tm);
    trn_core_destroy(core);
    trn_program_destroy(p);
    return rc;
}
