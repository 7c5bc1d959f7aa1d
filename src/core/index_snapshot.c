/*
 * index_snapshot.c — hg_index to and from one little-endian byte image.
 *
 * The body after the 128-byte header is the base laid out as
 * hg__base_layout() says (hashes, ids, tombstones, then per table its
 * offsets — compact 16-bit + block bases, or 32-bit for a wide table — and
 * slots), followed by the delta's hashes, ids and tombstones. A loaded
 * index points into the image instead of copying it, so a replica over an
 * mmap'd 10M-entry snapshot comes up in the time it takes to checksum and
 * bounds-check it. No I/O here: see src/media/index_file.c for files.
 *
 * Header (all integers little-endian):
 *    0  magic "HGIDX\r\n\x1a"     8  u32 format version   12 u32 header size (128)
 *   16  u64 base entries         24  u64 delta entries
 *   32  u32 tables               36  u32 bits per table
 *   40  u32 wide-table mask      44  u32 zero
 *   48  u64 body bytes           56  u64 body checksum
 *   64..119 zero (reserved)     120  u64 checksum of bytes 0..119
 */
#include "core/index_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE 128
#define HEADER_SUM 120
static const char magic[8] = {'H', 'G', 'I', 'D', 'X', '\r', '\n', 0x1a};

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8); /* little-endian hosts only (checked) */
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Each step (a ^ w) * odd, rotated, is a bijection of both the lane and the
 * word, so changing any one 8-byte word always changes that lane's final
 * value; each lane enters the result through its own bijection. */
uint64_t hg__checksum64(const void *data, size_t len, uint64_t seed)
{
	const uint64_t P = UINT64_C(0x9e3779b97f4a7c15);
	const uint8_t *p = data;
	uint64_t a[4] = {seed ^ 1, seed ^ 2, seed ^ 3, seed ^ 4};
	size_t n = len;
	for (; n >= 32; n -= 32, p += 32)
		for (int l = 0; l < 4; l++)
			a[l] = rotl((a[l] ^ rd64(p + 8 * l)) * P, 29);
	for (int l = 0; n > 0; l++) {
		uint8_t tail[8] = {0};
		size_t k = n < 8 ? n : 8;
		memcpy(tail, p, k);
		a[l] = rotl((a[l] ^ rd64(tail)) * P, 29);
		p += k;
		n -= k;
	}
	return hg__mix64(a[0] ^ len) ^ rotl(hg__mix64(a[1]), 16) ^ rotl(hg__mix64(a[2]), 32) ^
	       rotl(hg__mix64(a[3]), 48);
}

struct snap_layout {
	struct hg_base_layout base;
	size_t dhashes, dids, dtomb, body;
};

static size_t up64(size_t x)
{
	return (x + 63) & ~(size_t)63;
}

static void snap_layout(size_t n, size_t dn, unsigned m, unsigned bits, uint32_t wide,
			struct snap_layout *L)
{
	hg__base_layout(n, m, bits, wide, &L->base);
	L->dhashes = L->base.total;
	L->dids = up64(L->dhashes + dn * sizeof(hg_pdq));
	L->dtomb = up64(L->dids + dn * sizeof(uint64_t));
	L->body = up64(L->dtomb + dn);
}

hg_status hg_index_snapshot(hg_index *idx, hg_index_snapshot_alloc alloc, void *ctx,
			    size_t *size_out)
{
	if (size_out)
		*size_out = 0;
	if (!idx || !alloc)
		return HG_ERR_INVALID_ARG;
	if (!hg__host_le())
		return HG_ERR_UNSUPPORTED;
	pthread_mutex_lock(&idx->wlock);
	const struct hg_version *v = atomic_load(&idx->cur);
	const struct hg_base *b = v->base;
	const struct hg_delta *d = v->delta;
	size_t n = b->n, dn = atomic_load(&d->n);
	struct snap_layout L;
	snap_layout(n, dn, b->m, b->bits, b->wide, &L);
	hg_status st = HG_OK;
	uint8_t *out = alloc(ctx, HEADER_SIZE + L.body, &st);
	if (!out) {
		pthread_mutex_unlock(&idx->wlock);
		return st ? st : HG_ERR_NOMEM;
	}
	uint8_t *body = out + HEADER_SIZE;
	memset(body, 0, L.body); /* padding is part of the checksum */
	memcpy(body + L.base.hashes, b->hashes, n * sizeof(hg_pdq));
	memcpy(body + L.base.ids, b->ids, n * sizeof(uint64_t));
	memcpy(body + L.base.tomb, b->tomb, n); /* stable: we hold the writer lock */
	const size_t nkeys = (size_t)1 << b->bits;
	for (unsigned t = 0; t < b->m; t++) {
		if (b->wide & (1u << t)) {
			memcpy(body + L.base.off[t], b->off32[t], (nkeys + 1) * sizeof(uint32_t));
		} else {
			memcpy(body + L.base.off[t], b->rel[t], (nkeys + 1) * sizeof(uint16_t));
			memcpy(body + L.base.blk[t], b->blk[t],
			       ((nkeys >> HG_BLK_SHIFT) + 1) * sizeof(uint32_t));
		}
		memcpy(body + L.base.slots[t], b->slots[t], n * sizeof(uint32_t));
	}
	memcpy(body + L.dhashes, d->hashes, dn * sizeof(hg_pdq));
	memcpy(body + L.dids, d->ids, dn * sizeof(uint64_t));
	memcpy(body + L.dtomb, d->tomb, dn);
	pthread_mutex_unlock(&idx->wlock);

	uint8_t h[HEADER_SIZE] = {0};
	memcpy(h, magic, 8);
	uint32_t u32 = HG_INDEX_SNAPSHOT_VERSION;
	memcpy(h + 8, &u32, 4);
	u32 = HEADER_SIZE;
	memcpy(h + 12, &u32, 4);
	uint64_t u64 = n;
	memcpy(h + 16, &u64, 8);
	u64 = dn;
	memcpy(h + 24, &u64, 8);
	memcpy(h + 32, &b->m, 4);
	memcpy(h + 36, &b->bits, 4);
	memcpy(h + 40, &b->wide, 4);
	u64 = L.body;
	memcpy(h + 48, &u64, 8);
	u64 = hg__checksum64(body, L.body, 0);
	memcpy(h + 56, &u64, 8);
	u64 = hg__checksum64(h, HEADER_SUM, 0);
	memcpy(h + HEADER_SUM, &u64, 8);
	memcpy(out, h, HEADER_SIZE);
	if (size_out)
		*size_out = HEADER_SIZE + L.body;
	return HG_OK;
}

hg_status hg__snap_fail(hg_status st, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* Every table's offsets must run from 0 to n without going down, and every
 * slot must be a valid position: queries trust them for memory safety, and
 * the checksum only guards against accidents, not against a crafted file. */
static int tables_valid(const uint8_t *body, const struct hg_base_layout *L, size_t n,
			unsigned m, unsigned bits, uint32_t wide)
{
	const size_t nkeys = (size_t)1 << bits;
	for (unsigned t = 0; t < m; t++) {
		const uint32_t *slots = (const uint32_t *)(body + L->slots[t]);
		uint64_t prev = 0, first, last;
		uint32_t bad = 0;
		if (wide & (1u << t)) {
			const uint32_t *off = (const uint32_t *)(body + L->off[t]);
			first = off[0];
			last = off[nkeys];
			for (size_t k = 0; k < nkeys; k++)
				bad |= off[k] > off[k + 1];
		} else {
			/* within a 1024-key block rel must not go down; across
			 * blocks the full offsets must not */
			const uint16_t *rel = (const uint16_t *)(body + L->off[t]);
			const uint32_t *blk = (const uint32_t *)(body + L->blk[t]);
			const size_t B = (size_t)1 << HG_BLK_SHIFT;
			first = (uint64_t)blk[0] + rel[0];
			for (size_t k0 = 0; k0 <= nkeys; k0 += B) {
				size_t k1 = k0 + B - 1 < nkeys ? k0 + B - 1 : nkeys;
				for (size_t k = k0; k < k1; k++)
					bad |= rel[k] > rel[k + 1];
				uint64_t o = (uint64_t)blk[k0 >> HG_BLK_SHIFT] + rel[k0];
				bad |= o < prev;
				prev = (uint64_t)blk[k1 >> HG_BLK_SHIFT] + rel[k1];
			}
			last = prev;
		}
		if (first != 0 || last != n || bad)
			return 0;
		for (size_t i = 0; i < n; i++)
			bad |= slots[i] >= n;
		if (bad)
			return 0;
	}
	return 1;
}

hg_status hg_index_load_snapshot(const void *buf, size_t len, void (*release)(void *ctx),
				 void *release_ctx, hg_index **out, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if (!buf || ((uintptr_t)buf & (HG_ALIGN - 1)))
		return hg__snap_fail(HG_ERR_INVALID_ARG, err, errlen,
			    "snapshot buffer must be 64-byte aligned");
	if (!hg__host_le())
		return hg__snap_fail(HG_ERR_UNSUPPORTED, err, errlen,
			    "snapshots are little-endian; this host is not");
	const uint8_t *h = buf;
	if (len < HEADER_SIZE)
		return hg__snap_fail(len ? HG_ERR_TRUNCATED : HG_ERR_EMPTY, err, errlen,
			    "snapshot is %zu bytes, shorter than its 128-byte header", len);
	if (memcmp(h, magic, 8) != 0)
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "not an hg_index snapshot (bad magic)");
	if (hg__checksum64(h, HEADER_SUM, 0) != rd64(h + HEADER_SUM))
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "snapshot header checksum mismatch");
	if (rd32(h + 8) != HG_INDEX_SNAPSHOT_VERSION)
		return hg__snap_fail(HG_ERR_UNSUPPORTED, err, errlen,
			    "snapshot format version %u; this build reads version %u",
			    rd32(h + 8), HG_INDEX_SNAPSHOT_VERSION);
	uint64_t n = rd64(h + 16), dn = rd64(h + 24), body_len = rd64(h + 48);
	uint32_t m = rd32(h + 32), bits = rd32(h + 36), wide = rd32(h + 40);
	if (rd32(h + 12) != HEADER_SIZE || bits < HG_INDEX_MIN_BITS || bits > HG_INDEX_MAX_BITS ||
	    m < 1 || m > HG_INDEX_MAX_TABLES || (uint64_t)m * bits > 256 ||
	    (m < 32 && (wide >> m) != 0) ||
	    n > HG_INDEX_MAX_ENTRIES || dn > HG_INDEX_MAX_ENTRIES ||
	    n + dn > HG_INDEX_MAX_ENTRIES)
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen,
			    "snapshot header out of range (entries %llu+%llu, %u tables of %u bits)",
			    (unsigned long long)n, (unsigned long long)dn, m, bits);
	struct snap_layout L;
	snap_layout((size_t)n, (size_t)dn, m, bits, wide, &L);
	if (body_len != L.body)
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen,
			    "snapshot body length %llu does not match its header (%zu)",
			    (unsigned long long)body_len, L.body);
	if (len - HEADER_SIZE < L.body)
		return hg__snap_fail(HG_ERR_TRUNCATED, err, errlen,
			    "snapshot truncated: %zu body bytes of %zu", len - HEADER_SIZE, L.body);
	const uint8_t *body = h + HEADER_SIZE;
	if (hg__checksum64(body, L.body, 0) != rd64(h + 56))
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "snapshot body checksum mismatch");
	if (!tables_valid(body, &L.base, (size_t)n, m, bits, wide))
		return hg__snap_fail(HG_ERR_CORRUPT, err, errlen, "snapshot tables are inconsistent");

	struct hg_base *b = calloc(1, sizeof *b);
	uint8_t *tomb = malloc(n ? (size_t)n : 1);
	if (!b || !tomb) {
		free(b);
		free(tomb);
		return hg__snap_fail(HG_ERR_NOMEM, err, errlen, "out of memory");
	}
	memcpy(tomb, body + L.base.tomb, (size_t)n);
	b->n = (size_t)n;
	b->m = m;
	b->bits = bits;
	b->hashes = (const hg_pdq *)(body + L.base.hashes);
	b->ids = (const uint64_t *)(body + L.base.ids);
	b->tomb = tomb;
	b->tomb_heap = tomb;
	b->wide = wide;
	for (unsigned t = 0; t < m; t++) {
		if (wide & (1u << t)) {
			b->off32[t] = (const uint32_t *)(body + L.base.off[t]);
		} else {
			b->rel[t] = (const uint16_t *)(body + L.base.off[t]);
			b->blk[t] = (const uint32_t *)(body + L.base.blk[t]);
		}
		b->slots[t] = (const uint32_t *)(body + L.base.slots[t]);
	}
	b->bytes = L.base.total + sizeof *b;
	/* NULL options: later compactions pick the layout for their size. */
	hg_status st = hg__index_assemble(NULL, b, (const hg_pdq *)(body + L.dhashes),
					  (const uint64_t *)(body + L.dids), body + L.dtomb,
					  (size_t)dn, 0, out);
	if (st)
		return hg__snap_fail(st, err, errlen, "%s", hg_strerror(st));
	/* From here the index owns the buffer. */
	b->release = release;
	b->release_ctx = release_ctx;
	return HG_OK;
}
