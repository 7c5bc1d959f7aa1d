/*
 * extids.h — the external ids of indexed bank entries, kept in memory so a
 * check can name the list's own id for each match ("the hotline's id") without
 * asking the store on the request path. Keyed by index id (banks.c: bank slot
 * and entry id); only entries that have an external id take room.
 * Thread-safe: one writer at a time (banks.c holds its lock), many readers.
 */
#ifndef HG_SERVICE_EXTIDS_H
#define HG_SERVICE_EXTIDS_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/status.h"

typedef struct hg_extids hg_extids;

hg_status hg_extids_new(hg_extids **out);
/* NULL is a no-op. */
void hg_extids_free(hg_extids *x);
/* Remembers `ext` (copied) for index id `id` (not 0); a NULL or empty `ext`
 * forgets it. HG_ERR_NOMEM leaves the table as it was. */
hg_status hg_extids_set(hg_extids *x, uint64_t id, const char *ext);
/* Copies the external id of `id` into out[cap] (truncated to fit); returns 1,
 * or 0 with out = "" when there is none. */
int hg_extids_get(hg_extids *x, uint64_t id, char *out, size_t cap);
/* External ids held. */
size_t hg_extids_count(hg_extids *x);

#endif
