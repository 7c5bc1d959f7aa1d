/*
 * cli.h — the verb table and what the verbs share. To add a verb, write
 * src/cli/cmd_<name>.c with `int hg_cmd_<name>(int argc, char **argv)`,
 * declare it here and add one line to HG_CLI_VERBS.
 */
#ifndef HG_CLI_H
#define HG_CLI_H

/* Exit codes shared by every verb (match: 0 none, 1 matched, 2 error). */
enum { HG_EXIT_OK = 0, HG_EXIT_MATCH = 1, HG_EXIT_ERROR = 2, HG_EXIT_USAGE = 2 };

struct hg_cli_verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int hg_cmd_hash(int argc, char **argv);
int hg_cmd_scan(int argc, char **argv);
int hg_cmd_vmatch(int argc, char **argv);
int hg_cmd_bank(int argc, char **argv);
int hg_cmd_match(int argc, char **argv);
int hg_cmd_serve(int argc, char **argv);
int hg_cmd_key(int argc, char **argv);
int hg_cmd_audit(int argc, char **argv);

#define HG_CLI_VERBS \
	{"hash", hg_cmd_hash, "hash images: PDQ (+ --dihedral, --all digests)"}, \
	{"match", hg_cmd_match, "match images against a hash list (--list FILE) or a bank (--bank NAME)"}, \
	{"scan", hg_cmd_scan, "check stored files against the banks (resumable, -j N)"}, \
	{"vmatch", hg_cmd_vmatch, "match videos against vPDQ hash lists"}, \
	{"bank", hg_cmd_bank, "hash lists: create|list|show|edit|import|export|add|remove|stats|history"}, \
	{"serve", hg_cmd_serve, "the HTTP upload gate (/v1/check, banks, reviews)"}, \
	{"key", hg_cmd_key, "API keys for the gate: create, list, revoke"}, \
	{"audit", hg_cmd_audit, "the audit log: verify the hash chain, show, prune"},

#endif
