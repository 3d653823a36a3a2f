/* trnsim demo: what `make demo` runs. */
#include <stdio.h>

#include "cli.h"

int cmd_demo(trn_cli *cli, int argc, char **argv) {
    (void)cli;
    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: trnsim demo\n");
        return CLI_EXIT_OK;
    }
    return CLI_EXIT_OK;
}
