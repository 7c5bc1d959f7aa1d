/*
 * test_service_auth.c — API keys below the HTTP layer: a created key
 * authenticates with its tenant and role; a wrong secret, a malformed token
 * and a revoked key do not; only the key's hash is stored; a flood of
 * made-up key ids is cut off before it becomes a flood of database queries,
 * while a known key keeps working; keys in use are re-read in the background,
 * so a revocation reaches the cache without a request asking the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "service/service.h"

int main(void)
{
	char dir[] = "/tmp/hg_auth.XXXXXX", db[64], err[256];
	if (!mkdtemp(dir))
		return 1;
	snprintf(db, sizeof db, "%s/a.db", dir);
	hg_svc_store *st = NULL;
	CHECK_INT(hg_svc_store_open(db, &st, err, sizeof err), HG_OK);
	if (!st)
		return hgt_finish("test_service_auth");
	char id[HG_SVC_ID_MAX], token[128], id2[HG_SVC_ID_MAX], token2[128];
	CHECK_INT(hg_key_create(st, "acme", "curator", 0, 0, id, token, sizeof token), HG_OK);
	CHECK_INT(hg_key_create(st, "acme", "checker", 5, 10, id2, token2, sizeof token2), HG_OK);
	CHECK_INT(hg_key_create(st, "acme", "root", 0, 0, id2, token2, sizeof token2),
		  HG_ERR_INVALID_ARG);
	CHECK_INT(hg_key_create(st, "bad tenant", "admin", 0, 0, id2, token2, sizeof token2),
		  HG_ERR_INVALID_ARG);
	struct hg_key_rec rec;
	CHECK_INT(hg_svc_key_get(st, id, &rec), HG_OK);
	CHECK(strstr(token, rec.hash) == NULL);
	CHECK(strstr(rec.hash, token + 18) == NULL);
	CHECK_INT(strlen(rec.hash), 64);

	hg_keycache *kc = NULL;
	CHECK_INT(hg_keycache_new(st, &kc), HG_OK);
	struct hg_caller who;
	CHECK_INT(hg_keycache_auth(kc, token, &who), HG_OK);
	CHECK_STR(who.tenant, "acme");
	CHECK_STR(who.role, "curator");
	CHECK_STR(who.key_id, id);
	CHECK(who.perms & HG_PERM_BANK_WRITE);
	CHECK(!(who.perms & HG_PERM_REVIEW));
	char wrong[128];
	snprintf(wrong, sizeof wrong, "%s", token);
	wrong[strlen(wrong) - 1] ^= 1;
	CHECK_INT(hg_keycache_auth(kc, wrong, &who), HG_ERR_DENIED);
	CHECK_INT(hg_keycache_auth(kc, "", &who), HG_ERR_DENIED);
	CHECK_INT(hg_keycache_auth(kc, "hgk_", &who), HG_ERR_DENIED);
	CHECK_INT(hg_keycache_auth(kc, "hgk_k_x", &who), HG_ERR_DENIED);
	CHECK_INT(hg_keycache_auth(kc, "Bearer nonsense", &who), HG_ERR_DENIED);

	/* Made-up ids: at most the burst reaches the store, then "busy". */
	int denied = 0, limited = 0;
	double t0 = hg_mono_s();
	for (int i = 0; i < 1000; i++) {
		char fake[64];
		snprintf(fake, sizeof fake, "hgk_k%012x_00", i);
		hg_status s = hg_keycache_auth(kc, fake, &who);
		denied += s == HG_ERR_DENIED;
		limited += s == HG_ERR_RATE_LIMITED;
	}
	printf("1000 unknown key ids: %d looked up and denied, %d refused unasked\n", denied, limited);
	/* Bucket: 400 at once, then 200/s however slow this machine is. */
	double allowed = 400 + 200 * (hg_mono_s() - t0) + 1;
	CHECK(denied <= allowed);
	CHECK(limited > 0 || allowed >= 1000);
	CHECK_INT(denied + limited, 1000);
	CHECK_INT(hg_keycache_auth(kc, token, &who), HG_OK); /* cached: unaffected */

	/* Revocation: a fresh cache (as after the 5 s TTL) refuses the key. */
	CHECK_INT(hg_svc_key_revoke(st, id, hg_now_ms()), HG_OK);
	CHECK_INT(hg_svc_key_revoke(st, id, hg_now_ms()), HG_ERR_NOT_FOUND);
	hg_keycache_free(kc);
	CHECK_INT(hg_keycache_new(st, &kc), HG_OK);
	CHECK_INT(hg_keycache_auth(kc, token, &who), HG_ERR_DENIED);
	CHECK_INT(hg_keycache_auth(kc, token2, &who), HG_OK);
	CHECK(who.rate == 5 && who.burst == 10);

	/* Background refresh: a key in use is re-read once it is 2 s old (not
	 * before), so its revocation shows without a request waiting on the
	 * store. */
	CHECK_INT(hg_svc_key_revoke(st, id2, hg_now_ms()), HG_OK);
	CHECK_INT(hg_keycache_auth(kc, token2, &who), HG_OK); /* cached */
	hg_keycache_refresh(kc);
	CHECK_INT(hg_keycache_auth(kc, token2, &who), HG_OK); /* too young to re-read */
	usleep(2100 * 1000);
	CHECK_INT(hg_keycache_auth(kc, token2, &who), HG_OK); /* still within the 5 s */
	hg_keycache_refresh(kc);
	CHECK_INT(hg_keycache_auth(kc, token2, &who), HG_ERR_DENIED);
	hg_keycache_free(kc);
	hg_svc_store_free(st);

	CHECK_INT(hg_role_perms("checker"), HG_PERM_CHECK);
	CHECK_INT(hg_role_perms("nobody"), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	return hgt_finish("test_service_auth");
}
