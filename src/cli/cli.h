/*
 * cli: the `sluice` command-line tool's shared pieces. Each subcommand is a row of the table in
 * main.c: a name, a one-line summary shown by `sluice help`, and a function that receives the
 * arguments after the subcommand's name. Commands that talk to a cluster (topics, groups) live
 * in their own file (cli/topics.c exporting cli_topics_main) and add a row.
 */
#ifndef SLUICE_CLI_CLI_H
#define SLUICE_CLI_CLI_H

#include <stddef.h>

/* Exit statuses shared by every subcommand. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1, /* the command ran and failed (broker error, timeout) */
	CLI_EXIT_USAGE = 2,  /* bad arguments; nothing was done */
};

/* Runs a subcommand with argv[0] being its own name. Returns an exit status. */
typedef int (*cli_command_fn)(int argc, char **argv);

struct cli_command {
	const char *name;
	const char *args;    /* argument synopsis for help, "" if none */
	const char *summary; /* one line for `sluice help` */
	cli_command_fn fn;
};

/* Runs the subcommand of a command group: argv[0] is the group's name ("topics"), argv[1] the
 * subcommand, found in `commands`; "help", "-h" and "--help" list them. Returns an exit status. */
int cli_subcommand(const char *group, const struct cli_command *commands, size_t count, int argc,
		   char **argv);

/* `sluice topics ...` (topics.c), `sluice groups ...` (groups.c), `sluice partitions ...`
 * (partitions.c) and `sluice nodes ...` (nodes.c). */
int cli_topics_main(int argc, char **argv);
int cli_groups_main(int argc, char **argv);
int cli_partitions_main(int argc, char **argv);
int cli_nodes_main(int argc, char **argv);

#endif
