/* trnsim disasm: print a .tprog as .tasm that assembles back to the identical .tprog. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "trnsim/isa.h"

static void help(void) {
    printf("usage: trnsim disasm KERNEL.tprog [-o KERNEL.tasm]\n\n"
           "Prints the program as .tasm (to stdout, or to FILE with -o): loops unrolled, every\n"
           "operand with its slices, `.loc LINE COL` giving each instruction's source position.\n"
           "`trnsim asm` on the output writes the identical .tprog.\n\n"
           "Exit codes: 0 success, 2 usage error, 3 bad input file (wrong magic, future\n"
           "version, bad checksum, truncated).\n");
}

int cmd_disasm(trn_cli *cli, int argc, char **argv) {
    (void)cli;
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        int m;
        if (cli_is_help(argv[i])) {
            help();
            return CLI_EXIT_OK;
        }
        if ((m = cli_opt("disasm", argc, argv, &i, "-o", &out)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("disasm", "unknown option '%s' (try `trnsim disasm --help`)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (in) {
            cli_error("disasm", "one program at a time (got '%s' and '%s')", in, argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            in = argv[i];
        }
    }
    if (!in) {
        cli_error("disasm", "no .tprog given (try `trnsim disasm --help`)");
        return CLI_EXIT_USAGE;
    }
    trn_err err = {0};
    trn_program *p = NULL;
    if (trn_program_read_tprog(in, &p, &err) != TRN_OK) {
        cli_error("disasm", "%s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        cli_error("disasm", "%s: cannot open for writing", out);
        trn_program_destroy(p);
        return CLI_EXIT_BADINPUT;
    }
    trn_program_disasm(p, f);
    int bad = ferror(f);
    if (out && fclose(f) != 0) bad = 1;
    trn_program_destroy(p);
    if (bad) {
        cli_error("disasm", "%s: write error", out ? out : "stdout");
        return CLI_EXIT_BADINPUT;
    }
    return CLI_EXIT_OK;
}
