/*
 * digest_index.c — exact lookup of MD5 / SHA-1 / SHA-256 digests: an
 * open-addressing table (linear probing, backward-shift deletion) of
 * positions into a dense entry array. Digests are already uniform, so the
 * first 8 bytes, mixed with the kind, are the hash.
 */
#include <stdlib.h>
#include <string.h>

#include "hashgate/index.h"

#define EMPTY UINT32_MAX
#define MAX_DIGESTS 0x7fffffffu

struct entry {
	uint8_t digest[32]; /* zero-padded */
	uint64_t id;
	uint8_t kind;
};

struct hg_digest_index {
	struct entry *e;
	size_t n, cap;
	uint32_t *table;
	size_t mask;
};

size_t hg_digest_size(hg_digest_kind kind)
{
	static const size_t sizes[HG_DIGEST_KINDS_] = {16, 20, 32};
	return (unsigned)kind < HG_DIGEST_KINDS_ ? sizes[kind] : 0;
}

static size_t home(const struct hg_digest_index *di, hg_digest_kind kind, const uint8_t *d)
{
	uint64_t x;
	memcpy(&x, d, 8);
	x ^= (uint64_t)kind * UINT64_C(0x9e3779b97f4a7c15);
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	return (size_t)(x ^ (x >> 29)) & di->mask;
}

static int same(const struct entry *e, hg_digest_kind kind, const uint8_t *d)
{
	return e->kind == (uint8_t)kind && memcmp(e->digest, d, hg_digest_size(kind)) == 0;
}

hg_status hg_digest_index_new(hg_digest_index **out)
{
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	hg_digest_index *di = calloc(1, sizeof *di);
	if (!di)
		return HG_ERR_NOMEM;
	di->mask = 63;
	di->table = malloc(64 * sizeof *di->table);
	if (!di->table) {
		free(di);
		return HG_ERR_NOMEM;
	}
	memset(di->table, 0xff, 64 * sizeof *di->table);
	*out = di;
	return HG_OK;
}

void hg_digest_index_free(hg_digest_index *di)
{
	if (!di)
		return;
	free(di->e);
	free(di->table);
	free(di);
}

size_t hg_digest_index_count(const hg_digest_index *di)
{
	return di ? di->n : 0;
}

static void place(hg_digest_index *di, uint32_t pos)
{
	const struct entry *e = &di->e[pos];
	size_t i = home(di, (hg_digest_kind)e->kind, e->digest);
	while (di->table[i] != EMPTY)
		i = (i + 1) & di->mask;
	di->table[i] = pos;
}

static hg_status rehash(hg_digest_index *di, size_t cap)
{
	uint32_t *t = malloc(cap * sizeof *t);
	if (!t)
		return HG_ERR_NOMEM;
	memset(t, 0xff, cap * sizeof *t);
	free(di->table);
	di->table = t;
	di->mask = cap - 1;
	for (size_t i = 0; i < di->n; i++)
		place(di, (uint32_t)i);
	return HG_OK;
}

hg_status hg_digest_index_add(hg_digest_index *di, hg_digest_kind kind, const uint8_t *digest,
			      uint64_t id)
{
	if (!di || !digest || !hg_digest_size(kind))
		return HG_ERR_INVALID_ARG;
	for (size_t i = home(di, kind, digest); di->table[i] != EMPTY; i = (i + 1) & di->mask) {
		const struct entry *e = &di->e[di->table[i]];
		if (e->id == id && same(e, kind, digest))
			return HG_ERR_EXISTS;
	}
	if (di->n >= MAX_DIGESTS)
		return HG_ERR_TOO_LARGE;
	if ((di->n + 1) * 4 > (di->mask + 1) * 3) {
		hg_status st = rehash(di, (di->mask + 1) * 2);
		if (st)
			return st;
	}
	if (di->n == di->cap) {
		size_t cap = di->cap ? di->cap * 2 : 64;
		struct entry *e = realloc(di->e, cap * sizeof *e);
		if (!e)
			return HG_ERR_NOMEM;
		di->e = e;
		di->cap = cap;
	}
	struct entry *e = &di->e[di->n];
	memset(e, 0, sizeof *e);
	memcpy(e->digest, digest, hg_digest_size(kind));
	e->id = id;
	e->kind = (uint8_t)kind;
	place(di, (uint32_t)di->n++);
	return HG_OK;
}

/* Removes table cell i (backward shift: no tombstones needed). */
static void delete_cell(hg_digest_index *di, size_t i)
{
	size_t j = i;
	for (;;) {
		di->table[i] = EMPTY;
		for (;;) {
			j = (j + 1) & di->mask;
			if (di->table[j] == EMPTY)
				return;
			const struct entry *e = &di->e[di->table[j]];
			size_t h = home(di, (hg_digest_kind)e->kind, e->digest);
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		di->table[i] = di->table[j];
		i = j;
	}
}

static size_t cell_of(const hg_digest_index *di, uint32_t pos)
{
	const struct entry *e = &di->e[pos];
	size_t i = home(di, (hg_digest_kind)e->kind, e->digest);
	while (di->table[i] != pos)
		i = (i + 1) & di->mask;
	return i;
}

hg_status hg_digest_index_remove(hg_digest_index *di, uint64_t id)
{
	if (!di)
		return HG_ERR_INVALID_ARG;
	int found = 0;
	/* A scan of the dense array: removals are rare next to lookups. */
	for (size_t p = 0; p < di->n;) {
		if (di->e[p].id != id) {
			p++;
			continue;
		}
		found = 1;
		delete_cell(di, cell_of(di, (uint32_t)p));
		uint32_t last = (uint32_t)(di->n - 1);
		if (p != last) {
			di->table[cell_of(di, last)] = (uint32_t)p;
			di->e[p] = di->e[last];
		}
		di->n--;
	}
	return found ? HG_OK : HG_ERR_NOT_FOUND;
}

hg_status hg_digest_index_lookup(const hg_digest_index *di, hg_digest_kind kind,
				 const uint8_t *digest, uint64_t *ids, size_t cap, size_t *count)
{
	if (count)
		*count = 0;
	if (!di || !digest || !count || (cap && !ids) || !hg_digest_size(kind))
		return HG_ERR_INVALID_ARG;
	size_t k = 0;
	for (size_t i = home(di, kind, digest); di->table[i] != EMPTY; i = (i + 1) & di->mask) {
		const struct entry *e = &di->e[di->table[i]];
		if (same(e, kind, digest)) {
			if (k < cap)
				ids[k] = e->id;
			k++;
		}
	}
	*count = k;
	return HG_OK;
}
