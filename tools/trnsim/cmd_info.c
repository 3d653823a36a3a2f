/* trnsim info: the hardware catalog as a table, one entry in detail, or JSON. */
#include <stdio.h>

#include "cli.h"

int cmd_info(trn_cli *cli, int argc, char **argv) {
    (void)cli;
    if (argc > 1 && cli_is_help(argv[1])) {
        printf("usage: trnsim info [NAME] [--json]\n");
        return CLI_EXIT_OK;
    }
    cli_error("info", "the hardware catalog is not loaded yet");
    return CLI_EXIT_FAIL;
}
