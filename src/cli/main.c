/*
 * sluice: the admin and testing CLI. `sluice <command> [args]`, where the commands are the rows
 * of `commands` below; `sluice --version` and `sluice --help` work as options too.
 *
 * `topics`, `groups`, `partitions` and `nodes` are admin commands that speak the Kafka protocol
 * themselves over a blocking socket (client.c on top of the codec in src/kafka/), so the CLI
 * needs no client library; each is a group of subcommands dispatched by cli_subcommand().
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sluice/version.h"

static int help_main(int argc, char **argv);
static int version_main(int argc, char **argv);

static const struct cli_command commands[] = {
	{ "help", "[COMMAND]", "show the commands, or one command's usage", help_main },
	{ "version", "", "print the version", version_main },
	{ "topics", "list|describe|create|alter|delete ...",
	  "list, inspect, create, grow and delete topics", cli_topics_main },
	{ "groups", "list|describe|lag|reset-offsets|delete ...",
	  "inspect consumer groups, their lag, and reset or delete them", cli_groups_main },
	{ "partitions", "elect-leaders|reassign|reassignments",
	  "move partition leadership to the preferred replicas, or replicas to other nodes",
	  cli_partitions_main },
	{ "nodes", "list|drain|remove ...",
	  "list the brokers, move every replica off one, or remove one", cli_nodes_main },
};

#define COMMANDS_COUNT (sizeof commands / sizeof commands[0])

static const struct cli_command *find(const char *name)
{
	for (size_t i = 0; i < COMMANDS_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void subcommand_usage(FILE *out, const char *group, const struct cli_command *table,
			     size_t count)
{
	fprintf(out,
		"usage: sluice %s <command> [args] [--bootstrap HOST:PORT] [--timeout-ms MS]\n\n"
		"Commands:\n",
		group);
	for (size_t i = 0; i < count; i++)
		fprintf(out, "  %s %s\n      %s\n", table[i].name, table[i].args, table[i].summary);
	fprintf(out,
		"\n--bootstrap defaults to $SLUICE_BOOTSTRAP or 127.0.0.1:9092, --timeout-ms to "
		"10000.\n");
}

int cli_subcommand(const char *group, const struct cli_command *table, size_t count, int argc,
		   char **argv)
{
	if (argc < 2) {
		subcommand_usage(stderr, group, table, count);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		subcommand_usage(stdout, group, table, count);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < count; i++)
		if (strcmp(table[i].name, argv[1]) == 0)
			return table[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sluice %s: unknown command '%s' (see sluice %s help)\n", group, argv[1],
		group);
	return CLI_EXIT_USAGE;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice <command> [args]\n       sluice --help | --version\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < COMMANDS_COUNT; i++) {
		char synopsis[80];

		snprintf(synopsis, sizeof synopsis, "%s %s", commands[i].name, commands[i].args);
		fprintf(out, "  %-50s %s\n", synopsis, commands[i].summary);
	}
}

static int help_main(int argc, char **argv)
{
	const struct cli_command *c;

	(void)argv;
	if (argc <= 1) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2) {
		fprintf(stderr, "sluice help: expected at most one command name\n");
		return CLI_EXIT_USAGE;
	}
	c = find(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "sluice help: unknown command '%s'\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	printf("usage: sluice %s %s\n\n%s\n", c->name, c->args, c->summary);
	return CLI_EXIT_OK;
}

static int version_main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "sluice version: takes no arguments\n");
		return CLI_EXIT_USAGE;
	}
	printf("sluice %s\n", SLUICE_VERSION);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return version_main(1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return help_main(1, argv + 1);
	c = find(argv[1]);
	if (c == NULL) {
		fprintf(stderr, "sluice: unknown command '%s' (see sluice help)\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
