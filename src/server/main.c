/*
 * sluice-server: the node's main. Reads the configuration (defaults, then the --config file, then
 * --key=value overrides in the order given), checks it, and runs a struct server until SIGINT or
 * SIGTERM.
 *
 *   sluice-server [--config FILE] [--key=value ...]
 *   sluice-server --help | --version
 *
 * Exit status: 0 after an orderly stop (or --help, --version); 1 when the node cannot start
 * (data directory locked by another node, not creatable); 2 for a usage or configuration error,
 * with the config module's message ("node.properties:3: unknown key 'log.segmnet.bytes'") on
 * stderr.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>

#include "base/config.h"
#include "base/err.h"
#include "base/slog.h"
#include "raft/cons.h"
#include "server/server.h"
#include "server/server_config.h"

enum {
	EXIT_OK = 0,
	EXIT_START_FAILED = 1,
	EXIT_USAGE = 2,
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-server [--config FILE] [--key=value ...]\n"
		"       sluice-server --help | --version\n"
		"\n"
		"Runs one Sluice node. Settings come from the defaults, then FILE (a Kafka-style\n"
		"properties file: key=value lines, '#' comments), then --key=value flags in order.\n"
		"Stops cleanly on SIGINT or SIGTERM.\n"
		"\n"
		"Keys:\n");
	server_config_print_keys(out);
}

/* Returns the value of "--config FILE" or "--config=FILE" at argv[*i] (advancing *i past a
 * separate value), NULL if argv[*i] is not --config. Sets *missing when --config has no value. */
static const char *config_arg(int argc, char **argv, int *i, bool *missing)
{
	const char *a = argv[*i];

	*missing = false;
	if (strncmp(a, "--config=", 9) == 0)
		return a + 9;
	if (strcmp(a, "--config") != 0)
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	*i += 1;
	return argv[*i];
}

/* Applies "--key=value" (or "--key", reported as missing its value) to `c`. */
static int apply_override(struct server_config *c, const char *arg, char *errmsg)
{
	char key[CONFIG_STRING_BYTES_MAX];
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t key_len = eq != NULL ? (size_t)(eq - name) : strlen(name);

	if (key_len >= sizeof key) {
		errmsg_printf(errmsg, "command line: option '%.40s...' is too long", arg);
		return SLUICE_ECONFIG;
	}
	memcpy(key, name, key_len);
	key[key_len] = '\0';
	return config_set(server_config_schema, server_config_schema_len, c, key,
			  eq != NULL ? eq + 1 : NULL, errmsg);
}

/* Fills `c` from the command line. Returns 0, 1 when --help or --version was answered, or
 * EXIT_USAGE after printing the reason. */
static int load_config(int argc, char **argv, struct server_config *c)
{
	errmsg_t errmsg = "";
	const char *file = NULL;
	bool missing;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *f;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("sluice-server %s\n", SLUICE_VERSION);
			return 1;
		}
		f = config_arg(argc, argv, &i, &missing);
		if (missing) {
			fprintf(stderr, "sluice-server: --config needs a file name\n");
			return EXIT_USAGE;
		}
		if (f != NULL) {
			file = f;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			fprintf(stderr,
				"sluice-server: unexpected argument '%s' (settings are --key=value; "
				"see --help)\n",
				a);
			return EXIT_USAGE;
		}
	}

	if (server_config_defaults(c, errmsg) != 0)
		goto bad;
	if (file != NULL &&
	    config_parse_file(server_config_schema, server_config_schema_len, c, file, errmsg) != 0)
		goto bad;
	for (int i = 1; i < argc; i++) {
		if (config_arg(argc, argv, &i, &missing) != NULL)
			continue;
		if (apply_override(c, argv[i], errmsg) != 0)
			goto bad;
	}
	if (server_config_check(c, errmsg) != 0)
		goto bad;
	return 0;

bad:
	fprintf(stderr, "sluice-server: %s\n", errmsg);
	return EXIT_USAGE;
}

/* Every partition replica keeps a few files open (segment, indexes): lift the soft limit on
 * descriptors to the hard one, so a node with thousands of replicas does not run out. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			SLOG_WARN("server", "msg=\"cannot raise the open files limit\"");
	}
}

int main(int argc, char **argv)
{
	static struct server server;
	struct server_config config;
	errmsg_t errmsg = "";
	enum slog_level level;
	int rc;

	rc = load_config(argc, argv, &config);
	if (rc == 1)
		return EXIT_OK;
	if (rc != 0)
		return rc;

	rc = slog_parse_level(config.log_level, &level);
	/* server_config_check() accepted the name. */
	if (rc != 0)
		return EXIT_USAGE;
	slog_set_level(level);
	/* A client closing its socket must cost a connection, not the process. */
	signal(SIGPIPE, SIG_IGN);

	rc = cons_library_check(errmsg);
	if (rc != 0) {
		SLOG_ERROR("server", "msg=\"cannot start\" error=\"%s\"", errmsg);
		return EXIT_START_FAILED;
	}
	raise_fd_limit();
	rc = server_start(&server, &config, errmsg);
	if (rc != 0) {
		SLOG_ERROR("server", "msg=\"cannot start\" error=\"%s\"", errmsg);
		return EXIT_START_FAILED;
	}
	server_run(&server);
	server_close(&server);
	return EXIT_OK;
}
