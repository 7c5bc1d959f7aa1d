/*
 * harness.h — the few macros hashgate's C tests share.
 *
 * A test program runs its checks, prints each failure with file:line, and
 * exits non-zero if any failed (77 = skipped, for ctest). Deliberately tiny:
 * no framework to learn, nothing that can pass by itself.
 */
#ifndef HG_TEST_HARNESS_H
#define HG_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int hgt_failures;
static int hgt_checks;

#define CHECK(cond)                                                          \
	do {                                                                 \
		hgt_checks++;                                                \
		if (!(cond)) {                                               \
			hgt_failures++;                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                            \
		}                                                            \
	} while (0)

#define CHECK_INT(a, b)                                                      \
	do {                                                                 \
		long long va_ = (long long)(a), vb_ = (long long)(b);        \
		hgt_checks++;                                                \
		if (va_ != vb_) {                                            \
			hgt_failures++;                                      \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
				__FILE__, __LINE__, #a, va_, #b, vb_);       \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *sa_ = (a), *sb_ = (b);                           \
		hgt_checks++;                                                \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                 \
			hgt_failures++;                                      \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, sa_ ? sa_ : "(null)", \
				sb_ ? sb_ : "(null)");                       \
		}                                                            \
	} while (0)

/* Ends main(): prints the tally and returns the exit code. */
static inline int hgt_finish(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, hgt_checks, hgt_failures);
	return hgt_failures ? 1 : 0;
}

/* The conformance data folder (../shared/data), or NULL after printing why
 * the test is skipped. */
static inline const char *hgt_shared_data(void)
{
	const char *dir = getenv("HG_SHARED_DATA");
	struct stat st;
	if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("SKIP: conformance data not found (HG_SHARED_DATA=%s)\n",
		       dir ? dir : "(unset)");
		return NULL;
	}
	return dir;
}

/* Reads a whole file; returns NULL on failure. Caller frees. */
static inline unsigned char *hgt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			unsigned char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

#endif
