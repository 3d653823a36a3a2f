/* trnsim: the command-line entry point, read as a table of contents. Global options
 * (--hw FILE, repeatable) are taken out of argv before the command runs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    {"info", cmd_info, "chips, NeuronCore versions, systems and GPUs in the hardware catalog"},
    {"num", cmd_num, "quantize and convert float32 data through every Trainium data type"},
    {"asm", cmd_asm, "assemble and verify a .tasm kernel into a .tprog"},
    {"disasm", cmd_disasm, "print a .tprog as .tasm"},
    {"exec", cmd_exec, "run a kernel on a simulated NeuronCore, .npy in and out"},
    {"plan", cmd_plan, "the cluster planner: model counts; train, serve and RL plans with $ and J"},
    {"compare", cmd_compare, "a workload across systems ranked by $ per 1M tokens; claims"},
    {"run", cmd_run,
     "run a Hugging Face model on a simulated Trainium chip: tokens, TTFT, profile"},
    {"demo", cmd_demo, "a short tour: the catalog and the numerics"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: trnsim [--hw FILE.json]... <command> [options]\n\n"
               "trnsim is a software AWS Trainium. Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nGlobal options:\n"
               "  --hw FILE.json  add or override hardware catalog entries (repeatable)\n"
               "  --help          this text; `trnsim <command> --help` for a command\n"
               "  --version       the version\n\n"
               "Exit codes: 0 success, 1 simulated fault or failed check, 2 usage error,\n"
               "3 bad input file.\n");
}

int main(int argc, char **argv) {
    const char *hw_files[64];
    int nhw = 0, n = 1;
    /* Take the global --hw options out, wherever they are. */
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m = cli_opt("", argc, argv, &i, "--hw", &v);
        if (m < 0) return CLI_EXIT_USAGE;
        if (m == 0) {
            argv[n++] = argv[i];
            continue;
        }
        if (nhw == 64) {
            fprintf(stderr, "trnsim: at most 64 --hw files\n");
            return CLI_EXIT_USAGE;
        }
        hw_files[nhw++] = v;
    }
    argc = n;
    argv[argc] = NULL;

    if (argc < 2 || cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("trnsim %s\n", TRN_VERSION_STRING);
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0) cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "trnsim: unknown command '%s' (try `trnsim --help`)\n", argv[1]);
        return CLI_EXIT_USAGE;
    }

    trn_cli cli = {0};
    trn_err err = {0};
    if (trn_hw_create(&cli.hw, &err) != TRN_OK) {
        fprintf(stderr, "trnsim: built-in hardware catalog: %s\n", err.msg);
        return CLI_EXIT_BADINPUT;
    }
    for (int i = 0; i < nhw; i++) {
        if (trn_hw_load_file(cli.hw, hw_files[i], &err) != TRN_OK) {
            fprintf(stderr, "trnsim: --hw %s\n", err.msg);
            trn_hw_destroy(cli.hw);
            return CLI_EXIT_BADINPUT;
        }
    }
    int rc = cmd->fn(&cli, argc - 1, argv + 1);
    trn_hw_destroy(cli.hw);
    return rc;
}
