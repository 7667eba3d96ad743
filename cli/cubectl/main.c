// SPDX-License-Identifier: Apache-2.0
/*
 * cubectl: the command line for wiring and inspecting cubes, in the spirit
 * of polycubectl. It knows no service: it reads the YANG modules cubenetd
 * serves and turns words into RESTCONF requests.
 *
 * Settings, each overriding the one before: the config file
 * (/etc/cubenet/cubectl.conf, then ~/.config/cubectl/config, or --config),
 * the environment (CUBECTL_SOCKET, CUBECTL_URL, CUBECTL_TOKEN,
 * CUBECTL_OUTPUT, CUBECTL_CACHE, CUBECTL_YANG_DIR), then the options.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "cubectl.h"
#include "cubenetd_socket.h"
#include "installed.h"
#include "schema.h"

struct settings {
	char socket[256], url[256], token[256], output[16], cache[512], yang_dir[1024];
	int verbose;
};

/* The options, declared once: getopt's table and --help are made from it. */
static const struct option_spec {
	const char *name;
	char short_name;
	const char *arg; /* NULL: a flag */
	const char *help;
} option_specs[] = {
    {"output", 'o', "FORMAT", "table (default, for people), json or yaml"},
    {"file", 'f', "FILE", "a subtree to add or set, JSON or YAML ('-': stdin)"},
    {"socket", 's', "PATH", "cubenetd's unix socket (default " CUBENETD_SOCKET ")"},
    {"url", 'u', "URL", "cubenetd over TCP, e.g. http://127.0.0.1:8181 (needs a token)"},
    {"token", 't', "TOKEN", "bearer token for --url"},
    {"token-file", 'T', "FILE", "read the token from FILE"},
    {"config", 'c', "FILE",
     "settings file (key = value: socket, url, token, output, cache, yang-dir)"},
    {"cache-dir", 'C', "DIR", "where fetched YANG modules are kept (~/.cache/cubectl)"},
    {"yang-dir", 'Y', "DIRS", "the installed YANG modules, read when no daemon answers"},
    {"verbose", 'v', NULL, "print each request and reply on stderr"},
    {"help", 'h', NULL, "this text"},
    {NULL, 0, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cubectl [OPTIONS] COMMAND ...\n\n"
		"  cubectl SERVICE add NAME [LEAF=VALUE...] [-f FILE]   create (router, nat, lb, "
		"cube, ...)\n"
		"  cubectl SERVICE show                                 list a service's "
		"instances\n"
		"  cubectl NAME [show]                                  an instance, its config "
		"and counters\n"
		"  cubectl NAME CHILD [KEY...] ... add|set|del|show      anything below it\n"
		"  cubectl NAME set LEAF=VALUE...                       change leaves (a.b=v for "
		"nested ones)\n"
		"  cubectl del NAME                                     remove an instance\n"
		"  cubectl CONTAINER [CHILD...] [show|set|del]          a module's top-level "
		"settings\n"
		"  cubectl show                                         everything\n"
		"  cubectl connect CUBE:PORT CUBE|netdev:NAME|tx|pass|drop\n"
		"  cubectl disconnect CUBE:PORT\n"
		"  cubectl attach NAME NETDEV [mode=MODE]               head of a chain on a "
		"netdev hook\n"
		"  cubectl detach NAME NETDEV [mode=MODE]\n"
		"  cubectl ACTION [LEAF=VALUE...]                       e.g. reset-counters\n"
		"  cubectl help [SERVICE [CHILD...]]   cubectl NAME [CHILD...] ?\n"
		"  cubectl completion bash                              the bash completion "
		"script\n\n"
		"The services, their children, types and ranges come from the YANG modules\n"
		"the daemon serves (with no daemon, help and completion read the modules\n"
		"installed with cubectl): cubectl help lists them.\n\noptions:\n");
	for (const struct option_spec *o = option_specs; o->name; o++) {
		char left[64];

		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
	fprintf(out,
		"\nexit status: 0 done, 1 refused or failed by the daemon, 2 usage or a value\n"
		"the schema rejects, 3 not found, 4 exists already, 5 daemon unreachable,\n"
		"6 token refused.\n");
}

static void set(char *dst, size_t size, const char *value)
{
	size_t len;

	if (!value)
		return;
	len = strnlen(value, size - 1); /* longer settings are cut, not overrun */
	memcpy(dst, value, len);
	dst[len] = '\0';
}

/* key = value lines; # comments. A missing file is not an error. */
static int read_settings_file(const char *path, struct settings *s, int must_exist,
			      struct cli_error *err)
{
	FILE *f = fopen(path, "r");
	char line[600];
	int lineno = 0;

	if (!f)
		return must_exist ? cli_fail(err, EXIT_USAGE, "%s: cannot read it", path) : 0;
	while (fgets(line, sizeof(line), f)) {
		char key[64], value[512];

		lineno++;
		if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, " %63[a-z-] = %511[^\r\n]", key, value) != 2) {
			fclose(f);
			return cli_fail(err, EXIT_USAGE, "%s:%d: expected key = value", path,
					lineno);
		}
		if (!strcmp(key, "socket"))
			set(s->socket, sizeof(s->socket), value);
		else if (!strcmp(key, "url"))
			set(s->url, sizeof(s->url), value);
		else if (!strcmp(key, "token"))
			set(s->token, sizeof(s->token), value);
		else if (!strcmp(key, "output"))
			set(s->output, sizeof(s->output), value);
		else if (!strcmp(key, "cache"))
			set(s->cache, sizeof(s->cache), value);
		else if (!strcmp(key, "yang-dir"))
			set(s->yang_dir, sizeof(s->yang_dir), value);
		else {
			fclose(f);
			return cli_fail(err, EXIT_USAGE, "%s:%d: unknown setting '%s'", path,
					lineno, key);
		}
	}
	fclose(f);
	return 0;
}

static int read_token_file(const char *path, struct settings *s, struct cli_error *err)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(s->token, sizeof(s->token), f)) {
		if (f)
			fclose(f);
		return cli_fail(err, EXIT_USAGE, "%s: cannot read a token", path);
	}
	fclose(f);
	s->token[strcspn(s->token, "\r\n")] = '\0';
	return 0;
}

static const char completion_script[] =
    "# bash completion for cubectl: the words come from cubectl itself, which\n"
    "# reads them off the daemon's YANG modules and config (with no daemon,\n"
    "# off the modules installed with cubectl).\n"
    "_cubectl() {\n"
    "\tlocal IFS=$'\\n'\n"
    "\tCOMPREPLY=($(cubectl __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" 2>/dev/null))\n"
    "\t[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace\n"
    "}\n"
    "complete -F _cubectl cubectl\n";

int main(int argc, char **argv)
{
	struct cubectl x = {0};
	struct settings s = {.socket = CUBENETD_SOCKET, .output = "table"};
	struct option longopts[sizeof(option_specs) / sizeof(option_specs[0])];
	char shortopts[64] = "+", path[600];
	const char *home = getenv("HOME"), *config_file = NULL;
	char **words = NULL;
	int opt, n = 0, rc = EXIT_OK;

	for (size_t i = 0; option_specs[i].name; i++) {
		longopts[i] = (struct option){option_specs[i].name,
					      option_specs[i].arg ? required_argument : no_argument,
					      NULL, option_specs[i].short_name};
		snprintf(shortopts + strlen(shortopts), sizeof(shortopts) - strlen(shortopts),
			 "%c%s", option_specs[i].short_name, option_specs[i].arg ? ":" : "");
		longopts[i + 1] = (struct option){0};
	}
	/* The config file comes first, whatever the order of the options. */
	for (int i = 1; i < argc - 1; i++)
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config"))
			config_file = argv[i + 1];
	if (config_file) {
		if (read_settings_file(config_file, &s, 1, &x.err))
			goto out;
	} else {
		read_settings_file("/etc/cubenet/cubectl.conf", &s, 0, &x.err);
		snprintf(path, sizeof(path), "%s/.config/cubectl/config", home ? home : "/root");
		if (read_settings_file(path, &s, 0, &x.err))
			goto out;
	}
	set(s.socket, sizeof(s.socket), getenv("CUBECTL_SOCKET"));
	set(s.url, sizeof(s.url), getenv("CUBECTL_URL"));
	set(s.token, sizeof(s.token), getenv("CUBECTL_TOKEN"));
	set(s.output, sizeof(s.output), getenv("CUBECTL_OUTPUT"));
	set(s.cache, sizeof(s.cache), getenv("CUBECTL_CACHE"));
	set(s.yang_dir, sizeof(s.yang_dir), getenv("CUBECTL_YANG_DIR"));
	/* Options may come anywhere among the words (cubectl lb add lb0 -f x). */
	while (optind < argc) {
		if ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) == -1) {
			optind++; /* a word: getopt stops at it with "+" */
			continue;
		}
		switch (opt) {
		case 'o':
			set(s.output, sizeof(s.output), optarg);
			break;
		case 'f':
			x.file = optarg;
			break;
		case 's':
			set(s.socket, sizeof(s.socket), optarg);
			break;
		case 'u':
			set(s.url, sizeof(s.url), optarg);
			break;
		case 't':
			set(s.token, sizeof(s.token), optarg);
			break;
		case 'T':
			if (read_token_file(optarg, &s, &x.err))
				goto out;
			break;
		case 'c':
			break; /* read above */
		case 'C':
			set(s.cache, sizeof(s.cache), optarg);
			break;
		case 'Y':
			set(s.yang_dir, sizeof(s.yang_dir), optarg);
			break;
		case 'v':
			s.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			usage(stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	/* What is left, in order, are the command's words. */
	words = calloc((size_t)argc, sizeof(*words));
	if (!words) {
		cli_fail(&x.err, EXIT_FAILED, "out of memory");
		goto out;
	}

	for (int i = 1; i < argc; i++) {
		for (const struct option_spec *o = option_specs; o->name; o++) {
			char longname[40];

			snprintf(longname, sizeof(longname), "--%s", o->name);
			if ((argv[i][0] == '-' && argv[i][1] == o->short_name && !argv[i][2]) ||
			    !strcmp(argv[i], longname)) {
				i += o->arg ? 1 : 0;
				goto next;
			}
			if (!strncmp(argv[i], longname, strlen(longname)) &&
			    argv[i][strlen(longname)] == '=')
				goto next;
		}
		words[n++] = argv[i];
	next:;
	}
	if (!strcmp(s.output, "json"))
		x.output = OUTPUT_JSON;
	else if (!strcmp(s.output, "yaml"))
		x.output = OUTPUT_YAML;
	else if (strcmp(s.output, "table")) {
		cli_fail(&x.err, EXIT_USAGE, "--output: table, json or yaml, not '%s'", s.output);
		goto out;
	}
	if (n == 0) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!strcmp(words[0], "completion")) {
		if (n != 2 || strcmp(words[1], "bash")) {
			cli_fail(&x.err, EXIT_USAGE, "usage: cubectl completion bash");
			goto out;
		}
		fputs(completion_script, stdout);
		goto out;
	}
	x.client = (struct client){.socket_path = s.socket,
				   .url = s.url[0] ? s.url : NULL,
				   .token = s.token[0] ? s.token : NULL,
				   .verbose = s.verbose};
	if (!s.cache[0])
		snprintf(s.cache, sizeof(s.cache), "%s/.cache/cubectl", home ? home : "/root");
	if (!s.yang_dir[0])
		installed_yang_dirs(s.yang_dir, sizeof(s.yang_dir));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ly_log_options(LY_LOSTORE); /* libyang's messages reach the user through ours */
	if (!strcmp(words[0], "__complete")) {
		if (!schema_load(&x.ly, &x.client, s.cache, s.yang_dir, &x.origin, &x.err))
			complete_run(&x, n - 1, words + 1);
		rc = EXIT_OK; /* completion never complains */
		x.err.code = 0;
	} else if (!schema_load(&x.ly, &x.client, s.cache, s.yang_dir, &x.origin, &x.err)) {
		cmd_run(&x, n, words);
	}
	json_decref(x.config);
	ly_ctx_destroy(x.ly);
	curl_global_cleanup();
out:
	free(words);
	if (x.err.code) {
		fprintf(stderr, "cubectl: %s\n", x.err.msg);
		rc = x.err.code;
	}
	return rc;
}
