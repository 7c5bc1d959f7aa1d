/*
 * bankindex.h — a bank in memory, ready to match: its PDQ entries in an
 * hg_index and its MD5/SHA-1/SHA-256 entries in an hg_digest_index, built
 * from the store at one version and kept current by applying the store's
 * change feed (hg_store_changes) version by version. Part of hg_app.
 *
 *   hg_bank_index_load()     store snapshot at version V -> hg_index_build
 *   hg_bank_index_refresh()  changes in (V, now] -> hg_index_add / _remove
 *
 * Index entry ids are the store's entry ids, so a match names the stored
 * entry (hg_store_entries / the service can fetch its external id).
 * vPDQ entries are not indexed here (video matching is `vmatch`).
 *
 * Threads: queries (hg_index_query on hg_bank_index_pdq(), and
 * hg_bank_index_lookup_digest) may run on any threads while one thread
 * calls hg_bank_index_refresh; load, refresh and free must not race with
 * each other. Store versions are applied whole: a query made between two
 * refreshes sees exactly the version hg_bank_index_version() names. A query
 * running DURING a refresh may see part of the versions being applied
 * (adds land one by one, in microseconds each); a caller that must never
 * see that serialises queries against refresh with its own lock.
 */
#ifndef HASHGATE_BANKINDEX_H
#define HASHGATE_BANKINDEX_H

#include <stdint.h>

#include "hashgate/index.h"
#include "hashgate/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hg_bank_index hg_bank_index;

/*
 * Loads bank (tenant, name) at its current version. `on_entry` (may be
 * NULL) is called for every live entry read, e.g. to keep display ids.
 * Errors: the store's (HG_ERR_NOT_FOUND for an unknown bank; message on the
 * store), HG_ERR_NOMEM, or the index's build errors.
 */
HG_API hg_status hg_bank_index_load(hg_store *store, const char *tenant, const char *name,
				    hg_entry_fn on_entry, void *ctx, hg_bank_index **out);

/*
 * Applies every change committed since the loaded/last refreshed version.
 * *changed (may be NULL) gets the number of entries added + removed. When
 * the index's overlay has grown past a quarter of its base (or 65536
 * entries) the index is compacted. On failure the index is unchanged and
 * still usable at its old version.
 */
HG_API hg_status hg_bank_index_refresh(hg_bank_index *bi, hg_store *store, int64_t *changed);

/* The store version the index reflects. */
HG_API int64_t hg_bank_index_version(const hg_bank_index *bi);
/* The bank as it was at load (name, action, radius, enabled, id). */
HG_API const hg_bank *hg_bank_index_bank(const hg_bank_index *bi);
/* The PDQ index (owned by bi; valid until hg_bank_index_free). */
HG_API hg_index *hg_bank_index_pdq(hg_bank_index *bi);
/* Live digest entries / PDQ entries currently indexed. */
HG_API size_t hg_bank_index_digest_count(hg_bank_index *bi);

/* Exact digest lookup, as hg_digest_index_lookup(), safe against a
 * concurrent refresh. */
HG_API hg_status hg_bank_index_lookup_digest(hg_bank_index *bi, hg_digest_kind kind,
					     const uint8_t *digest, uint64_t *ids, size_t cap,
					     size_t *count);

/* NULL is a no-op. */
HG_API void hg_bank_index_free(hg_bank_index *bi);

#ifdef __cplusplus
}
#endif
#endif
