/* trnsim asm: assemble a .tasm kernel, verify it for a NeuronCore version and write the
 * .tprog; `--isa-doc` prints docs/isa.md. The work is in the isa layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trnsim/isa.h"

#define MAX_PARAMS 64

static void help(void) {
    printf("usage: trnsim asm KERNEL.tasm [-o KERNEL.tprog] [--param K=V]...\n"
           "                  [--core v2|v3|v4 | --chip trn1|trn2|trn3] [--grid N "
           "[--program-id I]]\n"
           "       trnsim asm --isa-doc\n\n"
           "Assembles a .tasm kernel (loops unrolled, expressions evaluated, tensors placed in\n"
           "HBM, SBUF and PSUM), verifies it against the NeuronCore version (partitions, SBUF/\n"
           "PSUM totals, matmul shapes and banks, engine/memory legality, data types) and\n"
           "writes the .tprog (default: KERNEL with the extension .tprog).\n\n"
           "  -o FILE         output path\n"
           "  --param K=V     override `.param K` (repeatable)\n"
           "  --core vN       NeuronCore version (default: the file's .core, else v3)\n"
           "  --chip NAME     the core version of a chip of the catalog (trn1 = v2 ...)\n"
           "  --grid N        SPMD launch of N programs: num_programs in expressions\n"
           "  --program-id I  program_id in expressions (0 <= I < N, default 0)\n"
           "  --isa-doc       print the ISA reference (docs/isa.md) and exit\n\n"
           "The language and the instruction table: docs/isa.md. Exit codes: 0 success, 2 usage\n"
           "error, 3 bad input file (the message names file:line:col).\n");
}

static char *default_output(const char *in) {
    size_t n = strlen(in);
    const char *dot = strrchr(in, '.'), *slash = strrchr(in, '/');
    if (dot && (!slash || dot > slash)) n = (size_t)(dot - in);
    char *out = malloc(n + 7);
    if (!out) return NULL;
    memcpy(out, in, n);
    strcpy(out + n, ".tprog");
    return out;
}

int cmd_asm(trn_cli *cli, int argc, char **argv) {
    const char *in = NULL, *out = NULL, *core = NULL, *chip = NULL, *v = NULL;
    trn_param params[MAX_PARAMS];
    trn_asm_opts opts = {0};
    int have_pid = 0;
    for (int i = 1; i < argc; i++) {
        int m;
        if (cli_is_help(argv[i])) {
            help();
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--isa-doc") == 0) {
            trn_isa_doc(stdout);
            return CLI_EXIT_OK;
        }
        if ((m = cli_opt("asm", argc, argv, &i, "-o", &out)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("asm", argc, argv, &i, "--core", &core)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("asm", argc, argv, &i, "--chip", &chip)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt("asm", argc, argv, &i, "--param", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (opts.n_overrides == MAX_PARAMS) {
                cli_error("asm", "at most %d --param options", MAX_PARAMS);
                return CLI_EXIT_USAGE;
            }
            if (!cli_parse_param(v, &params[opts.n_overrides])) {
                cli_error("asm", "--param %s: expected NAME=INTEGER", v);
                return CLI_EXIT_USAGE;
            }
            opts.n_overrides++;
        } else if ((m = cli_opt("asm", argc, argv, &i, "--grid", &v)) != 0) {
            uint64_t n;
            if (m < 0 || !cli_parse_u64("asm", "--grid", v, &n)) return CLI_EXIT_USAGE;
            if (n < 1 || n > 1024) {
                cli_error("asm", "--grid %s: expected 1 to 1024 programs", v);
                return CLI_EXIT_USAGE;
            }
            opts.num_programs = (int)n;
        } else if ((m = cli_opt("asm", argc, argv, &i, "--program-id", &v)) != 0) {
            uint64_t n;
            if (m < 0 || !cli_parse_u64("asm", "--program-id", v, &n)) return CLI_EXIT_USAGE;
            opts.program_id = n > 1024 ? 1025 : (int)n;
            have_pid = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("asm", "unknown option '%s' (try `trnsim asm --help`)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (in) {
            cli_error("asm", "one kernel at a time (got '%s' and '%s')", in, argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            in = argv[i];
        }
    }
    if (!in) {
        cli_error("asm", "no kernel given (try `trnsim asm --help`)");
        return CLI_EXIT_USAGE;
    }
    if (core && chip) {
        cli_error("asm", "--core and --chip both given; pick one");
        return CLI_EXIT_USAGE;
    }
    if (have_pid && (!opts.num_programs || opts.program_id >= opts.num_programs)) {
        cli_error("asm", "--program-id %d needs --grid N with N > %d", opts.program_id,
                  opts.program_id);
        return CLI_EXIT_USAGE;
    }
    trn_err err = {0};
    const trn_hw_core *hc = NULL;
    trn_isa_target target;
    if (chip) {
        const trn_hw_chip *c = trn_hw_chip_get(cli->hw, chip);
        if (!c || !c->core) {
            cli_error("asm", "--chip %s: no such chip in the catalog (try `trnsim info`)", chip);
            return CLI_EXIT_USAGE;
        }
        hc = c->core;
    } else if (core) {
        hc = trn_hw_core_get(cli->hw, core);
        if (!hc) {
            cli_error("asm",
                      "--core %s: no such NeuronCore version in the catalog (v2, v3, v4 ...)",
                      core);
            return CLI_EXIT_USAGE;
        }
    }
    if (hc) {
        if (trn_isa_target_from_core(hc, &target, &err) != TRN_OK) {
            cli_error("asm", "%s", err.msg);
            return CLI_EXIT_USAGE;
        }
        opts.core_version = target.version;
    }
    opts.overrides = params;
    trn_program *p = NULL;
    trn_status st = trn_program_assemble_file(in, &opts, &p, &err);
    if (st != TRN_OK) {
        cli_error("asm", "%s", err.msg);
        return st == TRN_E_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_BADINPUT;
    }
    if (!hc) {
        char name[16];
        snprintf(name, sizeof name, "v%d", p->core_version);
        hc = trn_hw_core_get(cli->hw, name);
        if (!hc || trn_isa_target_from_core(hc, &target, &err) != TRN_OK) {
            cli_error("asm", "%s: core version %s is not in the hardware catalog", in, name);
            trn_program_destroy(p);
            return CLI_EXIT_BADINPUT;
        }
    }
    int rc = CLI_EXIT_OK;
    char *def = NULL;
    if (trn_program_verify(p, &target, &err) != TRN_OK) {
        cli_error("asm", "%s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    if (!out) {
        def = default_output(in);
        if (!def) {
            cli_error("asm", "out of memory");
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        out = def;
    }
    if (trn_program_write_tprog(p, out, &err) != TRN_OK) {
        cli_error("asm", "%s", err.msg);
        rc = CLI_EXIT_BADINPUT;
        goto done;
    }
    printf("%s: kernel %s for %s: %d instructions, %d tensors; SBUF %llu of %llu bytes per "
           "partition, PSUM %llu of %llu, HBM %llu bytes -> %s\n",
           in, p->name, target.name, p->ninstrs, p->ntensors, (unsigned long long)p->sbuf_bytes,
           (unsigned long long)target.sbuf_bytes_per_partition, (unsigned long long)p->psum_bytes,
           (unsigned long long)target.psum_bytes_per_partition, (unsigned long long)p->hbm_bytes,
           out);
done:
    free(def);
    trn_program_destroy(p);
    return rc;
}
