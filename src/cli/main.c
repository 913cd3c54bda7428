/*
 * sluice: the admin and testing CLI. `sluice <command> [args]`, where the commands are the rows
 * of `commands` below; `sluice --version` and `sluice --help` work as options too.
 *
 * Today it only knows help and version. Commands that need a Kafka client (topics, groups,
 * produce, consume) will link librdkafka; see src/cli/meson.build.
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
};

#define COMMANDS_COUNT (sizeof commands / sizeof commands[0])

static const struct cli_command *find(const char *name)
{
	for (size_t i = 0; i < COMMANDS_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice <command> [args]\n       sluice --help | --version\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < COMMANDS_COUNT; i++) {
		char synopsis[64];

		snprintf(synopsis, sizeof synopsis, "%s %s", commands[i].name, commands[i].args);
		fprintf(out, "  %-20s %s\n", synopsis, commands[i].summary);
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
