/*
 * cmd_audit.c — `hashgate audit verify|show|prune`: checks the hash chain of
 * the audit log (exit 0 intact; 1 names the first bad record; 2 on error),
 * prints records, applies retention by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "service/service.h"

static const char usage[] =
	"usage: hashgate audit verify [--db URL]\n"
	"       hashgate audit show [--db URL]          every record, one per line\n"
	"       hashgate audit prune --days N [--decision-days N] [--db URL]\n"
	"  verify exits 0 when the chain is intact, 1 naming the first bad record,\n"
	"  2 when the store cannot be read.\n";

static int show_row(void *ctx, const struct hg_audit_rec *r)
{
	(void)ctx;
	printf("%lld\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)r->seq, (long long)r->ts,
	       r->actor, r->tenant, r->action, r->object, r->detail, r->hash);
	return 0;
}

int hg_cmd_audit(int argc, char **argv)
{
	const char *db = getenv("HASHGATE_DB");
	long days = -1, ddays = 0;
	if (argc < 2)
		return hg_cli_usage_error("audit", usage, "give verify, show or prune");
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			db = argv[++i];
		} else if (!strcmp(argv[i], "--days") && i + 1 < argc) {
			if (hg_cli_parse_long(argv[++i], 0, 36500, &days))
				return hg_cli_usage_error("audit", usage, "--days takes 0..36500");
		} else if (!strcmp(argv[i], "--decision-days") && i + 1 < argc) {
			if (hg_cli_parse_long(argv[++i], 0, 36500, &ddays))
				return hg_cli_usage_error("audit", usage, "--decision-days takes 0..36500");
		} else {
			return hg_cli_usage_error("audit", usage, "unknown option");
		}
	}
	if (!db || !*db)
		db = "./hashgate.db";
	if (strcmp(sub, "verify") && strcmp(sub, "show") && strcmp(sub, "prune"))
		return hg_cli_usage_error("audit", usage, "give verify, show or prune");
	if (!strcmp(sub, "prune") && days < 0)
		return hg_cli_usage_error("audit", usage, "prune needs --days");
	char err[512];
	hg_svc_store *st = NULL;
	if (hg_svc_store_open(db, &st, err, sizeof err) != HG_OK) {
		fprintf(stderr, "hashgate audit: %s\n", err);
		return HG_EXIT_ERROR;
	}
	int rc = HG_EXIT_OK;
	if (!strcmp(sub, "verify")) {
		int64_t n = 0, bad = 0;
		char why[512];
		int v = hg_audit_verify(st, &n, &bad, why, sizeof why);
		if (v < 0) {
			fprintf(stderr, "hashgate audit: %s\n", hg_svc_store_errmsg(st));
			rc = HG_EXIT_ERROR;
		} else if (v > 0) {
			printf("audit log damaged: %s\n", why);
			printf("first bad record: %lld\n", (long long)bad);
			rc = 1;
		} else {
			printf("audit log intact: %lld records\n", (long long)n);
		}
	} else if (!strcmp(sub, "show")) {
		if (hg_svc_audit_scan(st, show_row, NULL) != HG_OK) {
			fprintf(stderr, "hashgate audit: %s\n", hg_svc_store_errmsg(st));
			rc = HG_EXIT_ERROR;
		}
	} else {
		int64_t now = hg_now_ms(), day = 86400000LL, removed = 0;
		int64_t before = days ? now - days * day : 0;
		int64_t dbefore = ddays ? now - ddays * day : 0;
		if (hg_svc_prune(st, before, dbefore, &removed) != HG_OK) {
			fprintf(stderr, "hashgate audit: %s\n", hg_svc_store_errmsg(st));
			rc = HG_EXIT_ERROR;
		} else {
			printf("removed %lld records\n", (long long)removed);
		}
	}
	hg_svc_store_free(st);
	return rc;
}
