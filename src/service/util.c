/*
 * util.c — small things every part of the service needs: clocks, random ids
 * from the OS's CSPRNG (via OpenSSL), time-ordered ids, SHA-256 hex, the
 * digests of a file, name validation.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/service.h"

int64_t hg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double hg_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int hg_random_id(const char *prefix, char *out, size_t cap)
{
	unsigned char b[16];
	char hex[33];
	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	hg_hex_encode(b, sizeof b, hex);
	return snprintf(out, cap, "%s%s", prefix, hex) < (int)cap ? 0 : -1;
}

int hg_time_id(const char *prefix, char *out, size_t cap)
{
	/* 48 bits of unix ms, then 80 random bits: the same 32 hex digits as a
	 * random id, but consecutive ids sort together, so a table keyed by them
	 * (hg_decisions) grows at its end instead of at random pages — a few
	 * pages per journal commit rather than one per row. */
	unsigned char b[16];
	uint64_t ms = (uint64_t)hg_now_ms();
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	if (RAND_bytes(b + 6, sizeof b - 6) != 1)
		return -1;
	char hex[33];
	hg_hex_encode(b, sizeof b, hex);
	return snprintf(out, cap, "%s%s", prefix, hex) < (int)cap ? 0 : -1;
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *hg_sha256_md(void)
{
	/* EVP_sha256() makes OpenSSL 3 look the implementation up (under a
	 * process-wide lock) on every digest: 0.5 us instead of 0.17 us for a
	 * key, and contended by every HTTP thread. Fetched once, kept. */
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? sha256_md : EVP_sha256();
}

void hg_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, hg_sha256_md(), NULL);
	hg_hex_encode(md, 32, out);
}

/* Feeds the three digests from `data` (a buffer), or from `f` in pieces. */
static int digest_all(const void *data, size_t len, FILE *f, hg_hashes *h)
{
	const EVP_MD *md[3] = {EVP_md5(), EVP_sha1(), EVP_sha256()};
	uint8_t *out[3] = {h->md5, h->sha1, h->sha256};
	EVP_MD_CTX *ctx[3] = {EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new()};
	unsigned char *buf = f ? malloc(1 << 16) : NULL;
	int ok = ctx[0] && ctx[1] && ctx[2] && (!f || buf);
	for (int i = 0; i < 3 && ok; i++)
		ok = EVP_DigestInit_ex(ctx[i], md[i], NULL) == 1;
	for (size_t n = len; ok;) {
		if (f)
			n = fread(buf, 1, 1 << 16, f);
		for (int i = 0; i < 3 && ok && n; i++)
			ok = EVP_DigestUpdate(ctx[i], f ? (const void *)buf : data, n) == 1;
		if (!f || n < (1 << 16))
			break;
	}
	if (f && ferror(f))
		ok = 0;
	for (int i = 0; i < 3; i++) {
		unsigned int n = 0;
		if (ok)
			ok = EVP_DigestFinal_ex(ctx[i], out[i], &n) == 1;
		EVP_MD_CTX_free(ctx[i]);
	}
	free(buf);
	return ok ? 0 : -1;
}

int hg_digest_bytes(const void *data, size_t len, hg_hashes *h)
{
	return digest_all(data, len, NULL, h);
}

int hg_digest_file(const char *path, hg_hashes *h)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	int rc = digest_all(NULL, 0, f, h);
	fclose(f);
	return rc;
}

int hg_valid_name(const char *s)
{
	size_t n = 0;
	if (!s || !*s || *s == '.')
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		if (!ok || n >= 63)
			return 0;
	}
	return 1;
}
