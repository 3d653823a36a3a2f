/* trnsim info: the hardware catalog as a table, one entry in detail, or JSON. The printing
 * itself is in the hw layer (trn_hw_print_table, trn_hw_print_entry, trn_hw_to_json) so the
 * demo and other tools can reuse it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void) {
    printf("usage: trnsim [--hw FILE.json]... info [NAME] [--json]\n\n"
           "Without NAME: the hardware catalog as tables (NeuronCore versions, chips, GPUs,\n"
           "systems). With NAME (a core version, chip, system or GPU, e.g. v3, trn2,\n"
           "trn3-gen2-ultraserver, h100-sxm): every parameter with its source, and the derived\n"
           "figures (chip peak = cores x 128x128 PEs x 2 x clock x rate; system = chips x chip)\n"
           "beside the published ones with the difference.\n\n"
           "  --json   machine-readable output: without NAME the whole catalog in the --hw\n"
           "           input schema; with NAME the entry, its fields and its figures\n"
           "  --hw F   (global, repeatable) add or override catalog entries from F\n\n"
           "Values marked '*' or ASSUMED are not published; docs/hardware.md has the schema.\n");
}

int cmd_info(trn_cli *cli, int argc, char **argv) {
    const char *name = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-') {
            cli_error("info", "unknown option '%s' (try `trnsim info --help`)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (name) {
            cli_error("info", "one NAME at a time (got '%s' and '%s')", name, argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            name = argv[i];
        }
    }
    trn_err err = {0};
    trn_hw_entry e;
    if (name && trn_hw_find(cli->hw, name, &e, &err) != TRN_OK) {
        cli_error("info", "%s", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    if (json) {
        char *text = NULL;
        trn_status s = trn_hw_to_json(cli->hw, name, &text, &err);
        if (s != TRN_OK) {
            cli_error("info", "%s", err.msg);
            return cli_exit_for(s);
        }
        printf("%s\n", text);
        free(text);
        return CLI_EXIT_OK;
    }
    if (name)
        trn_hw_print_entry(cli->hw, e, stdout);
    else
        trn_hw_print_table(cli->hw, stdout);
    return CLI_EXIT_OK;
}
