/*
 * util.c — small things every part of the service needs: clocks, random ids
 * from the OS's CSPRNG (via OpenSSL), SHA-256 hex, name validation.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
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

void hg_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	hg_hex_encode(md, 32, out);
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
