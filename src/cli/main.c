/*
 * main.c — the hashgate command line: a table of verbs, one file each.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "hashgate/hashgate.h"

static const struct hg_cli_verb verbs[] = {
	HG_CLI_VERBS
};

static void usage(FILE *out)
{
	fprintf(out, "usage: hashgate <command> [options] [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\nhashgate <command> --help for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? HG_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("hashgate %s\n", HG_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "hashgate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return HG_EXIT_USAGE;
}
