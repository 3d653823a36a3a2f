/* trnsim num: quantize and convert raw float32 files. */
#include <stdio.h>

#include "cli.h"

int cmd_num(trn_cli *cli, int argc, char **argv) {
    (void)cli;
    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: trnsim num quantize|convert ...\n");
        return CLI_EXIT_OK;
    }
    return CLI_EXIT_USAGE;
}
