/* Shared pieces of the trnsim command line: the context every command gets, exit codes
 * (DESIGN.md "The command line"), option parsing and error printing. */
#ifndef TRN_CLI_H
#define TRN_CLI_H

#include "trnsim/trnsim.h"

enum {
    CLI_EXIT_OK = 0,       /* success */
    CLI_EXIT_FAIL = 1,     /* the simulated program faulted or a check failed */
    CLI_EXIT_USAGE = 2,    /* bad command line */
    CLI_EXIT_BADINPUT = 3, /* bad input file: parse error, wrong shape, unknown name */
};

typedef struct trn_cli {
    trn_hw *hw; /* the catalog with every --hw file applied (owned by main) */
} trn_cli;

typedef int (*cli_fn)(trn_cli *cli, int argc, char **argv);

typedef struct cli_command {
    const char *name;
    cli_fn fn;
    const char *summary;
} cli_command;

/* Prints "trnsim CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Exit code for a library status: bad input and unknown names 3, bad values 2, faults 1. */
int cli_exit_for(trn_status s);
/* Matches argv[*i] against option `name` ("--format"), taking its value from "--format=V" or
 * the next argument. Returns 1 and sets *value (advancing *i) on a match, 0 if argv[*i] is
 * another option, -1 (after printing an error) if the value is missing. */
int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value);
/* 1 if argv is "-h" or "--help". */
int cli_is_help(const char *arg);
/* Parses a whole decimal or 0x integer into *v; prints an error naming `what` and returns 0
 * when it is not one. */
int cli_parse_u64(const char *cmd, const char *what, const char *text, uint64_t *v);

/* Value kinds of table-driven options (plan, compare). */
enum { CLI_VAL_STR, CLI_VAL_POS, CLI_VAL_NUM };
/* Stores the value `v` of option `flag` at `dst` by `kind`: the string itself (borrowed,
 * const char *), a positive integer up to 2^40 (uint64_t) or a positive finite number
 * (double). Returns 0, or CLI_EXIT_USAGE after a message naming the flag and the value. */
int cli_store_value(const char *cmd, const char *flag, int kind, const char *v, void *dst);

/* Parses "K=V" (V an integer, decimal or 0x) into a kernel parameter override; 0 if malformed. */
int cli_parse_param(const char *s, trn_param *p);

int cmd_info(trn_cli *cli, int argc, char **argv);
int cmd_num(trn_cli *cli, int argc, char **argv);
int cmd_demo(trn_cli *cli, int argc, char **argv);
int cmd_asm(trn_cli *cli, int argc, char **argv);
int cmd_disasm(trn_cli *cli, int argc, char **argv);
int cmd_exec(trn_cli *cli, int argc, char **argv);
int cmd_plan(trn_cli *cli, int argc, char **argv);
int cmd_compare(trn_cli *cli, int argc, char **argv);
int cmd_run(trn_cli *cli, int argc, char **argv);

#endif
