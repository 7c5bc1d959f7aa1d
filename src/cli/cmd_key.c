/*
 * cmd_key.c — `hashgate key create|list|revoke`: API keys for the HTTP gate.
 * A new key is printed once, alone on the last line; the store keeps only
 * its SHA-256. Creating and revoking keys are audited like bank changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "service/service.h"

static const char usage[] =
	"usage: hashgate key create --tenant T --role checker|curator|reviewer|admin\n"
	"                           [--rate R] [--burst B] [--db URL]\n"
	"       hashgate key list [--tenant T] [--db URL]\n"
	"       hashgate key revoke KEY_ID [--db URL]\n"
	"  roles: checker (check only), curator (banks and entries), reviewer (reviews,\n"
	"         decisions), admin (all of them); every key sees its own tenant only.\n"
	"  --rate/--burst override the server's per-key rate limit (requests/s, bucket).\n"
	"  The store is --db, else $HASHGATE_DB, else ./hashgate.db.\n";

static int list_row(void *ctx, const struct hg_key_rec *k)
{
	const char *tenant = ctx;
	if (tenant && strcmp(tenant, k->tenant) != 0)
		return 0;
	printf("%s\t%s\t%s\t%s\trate=%g\tburst=%g\n", k->id, k->tenant, k->role,
	       k->revoked_at ? "revoked" : "active", k->rate, k->burst);
	return 0;
}

/* Records a key change in the audit log (one synchronous journal item). */
static int audit_key(hg_svc_store *st, const char *action, const char *id, const char *tenant,
		     const char *detail)
{
	hg_journal *j = NULL;
	if (hg_journal_new(st, 1, &j) != HG_OK)
		return -1;
	struct hg_journal_item it = {.actor = "cli", .tenant = tenant, .action = action,
				     .object = id, .detail = detail};
	hg_status rc = hg_journal_add(j, &it, 1);
	hg_journal_free(j);
	return rc == HG_OK ? 0 : -1;
}

int hg_cmd_key(int argc, char **argv)
{
	const char *tenant = NULL, *role = NULL, *db = getenv("HASHGATE_DB"), *id = NULL;
	double rate = 0, burst = 0;
	if (argc < 2)
		return hg_cli_usage_error("key", usage, "give create, list or revoke");
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(a, "--tenant") && v) {
			tenant = v;
			i++;
		} else if (!strcmp(a, "--role") && v) {
			role = v;
			i++;
		} else if (!strcmp(a, "--db") && v) {
			db = v;
			i++;
		} else if (!strcmp(a, "--rate") && v) {
			rate = strtod(v, &end);
			if (*end || rate < 0)
				return hg_cli_usage_error("key", usage, "--rate takes a number >= 0");
			i++;
		} else if (!strcmp(a, "--burst") && v) {
			burst = strtod(v, &end);
			if (*end || burst < 0)
				return hg_cli_usage_error("key", usage, "--burst takes a number >= 0");
			i++;
		} else if (a[0] != '-' && !id) {
			id = a;
		} else {
			return hg_cli_usage_error("key", usage, "unknown option");
		}
	}
	if (!db || !*db)
		db = "./hashgate.db";
	if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke"))
		return hg_cli_usage_error("key", usage, "give create, list or revoke");
	if (!strcmp(sub, "create") && (!tenant || !role))
		return hg_cli_usage_error("key", usage, "create needs --tenant and --role");
	if (!strcmp(sub, "create") && !hg_role_perms(role))
		return hg_cli_usage_error("key", usage, "--role is checker, curator, reviewer or admin");
	if (!strcmp(sub, "create") && !hg_valid_name(tenant))
		return hg_cli_usage_error("key", usage, "--tenant takes 1-63 of [A-Za-z0-9._-]");
	if (!strcmp(sub, "revoke") && !id)
		return hg_cli_usage_error("key", usage, "revoke needs a KEY_ID");

	char err[512];
	hg_svc_store *st = NULL;
	if (hg_svc_store_open(db, &st, err, sizeof err) != HG_OK) {
		fprintf(stderr, "hashgate key: %s\n", err);
		return HG_EXIT_ERROR;
	}
	int rc = HG_EXIT_OK;
	if (!strcmp(sub, "create")) {
		char kid[HG_SVC_ID_MAX], token[128], detail[160];
		hg_status s = hg_key_create(st, tenant, role, rate, burst, kid, token, sizeof token);
		snprintf(detail, sizeof detail, "{\"role\":\"%s\"}", role);
		if (s != HG_OK) {
			fprintf(stderr, "hashgate key: %s\n", s == HG_ERR_STORE
				? hg_svc_store_errmsg(st) : hg_strerror(s));
			rc = HG_EXIT_ERROR;
		} else if (audit_key(st, "key.create", kid, tenant, detail) != 0) {
			fprintf(stderr, "hashgate key: cannot write the audit record: %s\n",
				hg_svc_store_errmsg(st));
			rc = HG_EXIT_ERROR;
		} else {
			printf("key id %s, tenant %s, role %s (the key is shown once; keep it)\n",
			       kid, tenant, role);
			printf("%s\n", token);
		}
	} else if (!strcmp(sub, "list")) {
		if (hg_svc_key_scan(st, list_row, (void *)tenant) != HG_OK) {
			fprintf(stderr, "hashgate key: %s\n", hg_svc_store_errmsg(st));
			rc = HG_EXIT_ERROR;
		}
	} else {
		struct hg_key_rec k;
		hg_status s = hg_svc_key_get(st, id, &k);
		if (s == HG_OK)
			s = hg_svc_key_revoke(st, id, hg_now_ms());
		if (s == HG_OK && audit_key(st, "key.revoke", id, k.tenant, "{}") != 0)
			s = HG_ERR_STORE;
		if (s != HG_OK) {
			fprintf(stderr, "hashgate key: %s\n", hg_svc_store_errmsg(st));
			rc = HG_EXIT_ERROR;
		} else {
			printf("revoked %s\n", id);
		}
	}
	hg_svc_store_free(st);
	return rc;
}
