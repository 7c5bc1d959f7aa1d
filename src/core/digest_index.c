/*
 * digest_index.c — exact lookup of MD5 / SHA-1 / SHA-256 digests: an
 * open-addressing table (linear probing, backward-shift deletion) of
 * positions into a dense entry array. Digests are already uniform, so the
 * first 8 bytes, mixed with the kind, are the hash.
 */
#include <stdlib.h>
#include <string.h>

#include "core/index_internal.h"

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

/* ---- snapshots (layout in index.h) ---------------------------------------- */

#define SNAP_HEADER 48
#define SNAP_RECORD 48
#define SNAP_VERSION 1
static const uint8_t snap_magic[8] = {'H', 'G', 'D', 'I', 'G', '\r', '\n', 0x1a};

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8); /* little-endian hosts only (checked) */
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

hg_status hg_digest_index_snapshot(const hg_digest_index *di, hg_index_snapshot_alloc alloc,
				   void *ctx, size_t *size_out)
{
	if (size_out)
		*size_out = 0;
	if (!di || !alloc)
		return HG_ERR_INVALID_ARG;
	if (!hg__host_le())
		return HG_ERR_UNSUPPORTED;
	size_t size = SNAP_HEADER + di->n * SNAP_RECORD;
	hg_status st = HG_ERR_NOMEM;
	uint8_t *p = alloc(ctx, size, &st);
	if (!p)
		return st ? st : HG_ERR_NOMEM;
	memset(p, 0, size);
	uint8_t *body = p + SNAP_HEADER;
	for (size_t i = 0; i < di->n; i++) {
		uint8_t *r = body + i * SNAP_RECORD;
		r[0] = di->e[i].kind;
		put64(r + 8, di->e[i].id);
		memcpy(r + 16, di->e[i].digest, 32);
	}
	memcpy(p, snap_magic, 8);
	uint32_t v32 = SNAP_VERSION;
	memcpy(p + 8, &v32, 4);
	v32 = SNAP_HEADER;
	memcpy(p + 12, &v32, 4);
	put64(p + 16, di->n);
	put64(p + 24, hg__checksum64(body, di->n * SNAP_RECORD, 0));
	put64(p + 40, hg__checksum64(p, 40, 1));
	if (size_out)
		*size_out = size;
	return HG_OK;
}

static int zero_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

hg_status hg_digest_index_load_snapshot(const void *buf, size_t len, hg_digest_index **out,
					char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out || (!buf && len))
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if (!hg__host_le())
		return hg__snap_fail(HG_ERR_UNSUPPORTED, err, errlen, "big-endian host");
	const uint8_t *p = buf;
	if (len < SNAP_HEADER)
		return hg__snap_fail(HG_ERR_TRUNCATED, err, errlen, "%zu bytes, shorter than the header",
				 len);
	if (memcmp(p, snap_magic, 8) != 0)
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "not a digest snapshot (magic)");
	if (get64(p + 40) != hg__checksum64(p, 40, 1))
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "header checksum mismatch");
	uint32_t version, hsize;
	memcpy(&version, p + 8, 4);
	memcpy(&hsize, p + 12, 4);
	if (version != SNAP_VERSION)
		return hg__snap_fail(HG_ERR_UNSUPPORTED, err, errlen, "format version %u (this is %u)",
				 version, SNAP_VERSION);
	uint64_t n = get64(p + 16);
	if (hsize != SNAP_HEADER || !zero_bytes(p + 32, 8))
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "bad header fields");
	if (n > MAX_DIGESTS)
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "%llu digests, over the limit",
				 (unsigned long long)n);
	if (len - SNAP_HEADER < n * SNAP_RECORD)
		return hg__snap_fail(HG_ERR_TRUNCATED, err, errlen, "%llu digests need %llu bytes, got %zu",
				 (unsigned long long)n,
				 (unsigned long long)(SNAP_HEADER + n * SNAP_RECORD), len);
	if (len - SNAP_HEADER != n * SNAP_RECORD)
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "%zu bytes after the last digest",
				 len - SNAP_HEADER - (size_t)n * SNAP_RECORD);
	const uint8_t *body = p + SNAP_HEADER;
	if (get64(p + 24) != hg__checksum64(body, (size_t)n * SNAP_RECORD, 0))
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "body checksum mismatch");

	hg_digest_index *di;
	hg_status st = hg_digest_index_new(&di);
	if (st)
		return st;
	size_t cap = 64;
	while (cap / 4 * 3 < n + 1)
		cap *= 2;
	if ((st = rehash(di, cap)) != HG_OK ||
	    (n && !(di->e = malloc((size_t)n * sizeof *di->e)))) {
		hg_digest_index_free(di);
		return HG_ERR_NOMEM;
	}
	di->cap = (size_t)n;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = body + i * SNAP_RECORD;
		size_t ds = hg_digest_size((hg_digest_kind)r[0]);
		if (!ds || !zero_bytes(r + 1, 7) || !zero_bytes(r + 16 + ds, 32 - ds)) {
			hg_digest_index_free(di);
			return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "digest %zu: bad kind or padding",
					 i);
		}
		st = hg_digest_index_add(di, (hg_digest_kind)r[0], r + 16, get64(r + 8));
		if (st) {
			hg_digest_index_free(di);
			return st == HG_ERR_EXISTS
				       ? hg__snap_fail(HG_ERR_CORRUPT, err, errlen,
						   "digest %zu repeats an earlier one", i)
				       : st;
		}
	}
	*out = di;
	return HG_OK;
}
