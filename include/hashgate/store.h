/*
 * store.h — where banks live: a SQLite file (the embedded default) or a
 * PostgreSQL database shared by several servers. Part of the hashgate
 * application library (hg_app), not of libhashgate.
 *
 *   hg_store_open("./hashgate.db" | "sqlite:PATH" | "postgres://...")
 *        |  runs the versioned schema migrations, refuses a newer schema
 *        v
 *   banks ── entries (soft-deleted, never erased) ── bank_versions (history)
 *
 * Every change to a bank (create, edit, import, add, remove) is one
 * transaction that bumps the bank's version by one and records who, when,
 * what in its history. A crash half-way leaves the bank as it was. An entry
 * is live at version V when added_version <= V and it was not removed at or
 * before V, so any past version can be exported, and a reader that follows
 * changes by version (hg_store_changes) never sees half an import.
 *
 * Banks are named within a tenant; every `tenant` argument may be NULL for
 * HG_DEFAULT_TENANT.
 *
 * Threads: one hg_store per thread (like a database connection). Processes:
 * any number may open the same store; writers are serialised per bank.
 * Every failing call leaves a message in hg_store_errmsg().
 */
#ifndef HASHGATE_STORE_H
#define HASHGATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/bank.h"
#include "hashgate/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The store chosen when neither --db nor HASHGATE_DB says otherwise. */
#define HG_STORE_DEFAULT_URL "./hashgate.db"

typedef struct hg_store hg_store;

/*
 * Opens the store named by `url`: "postgres://..." or "postgresql://..." (a
 * libpq URI) selects PostgreSQL; "sqlite:PATH" or any other string is a
 * SQLite file path (created if missing; WAL mode). NULL means
 * HG_STORE_DEFAULT_URL. Runs pending schema migrations in one transaction.
 *
 * On success *out is a new handle. On failure the status says why
 * (HG_ERR_STORE: cannot connect/open; HG_ERR_UNSUPPORTED: the database's
 * schema is newer than this program) and *out is still a handle, whose
 * hg_store_errmsg() explains, unless the status is HG_ERR_NOMEM or
 * HG_ERR_INVALID_ARG (then *out is NULL). Free it with hg_store_free().
 */
HG_API hg_status hg_store_open(const char *url, hg_store **out);
/* Closes the connection and frees the handle. NULL is a no-op. */
HG_API void hg_store_free(hg_store *store);
/* The message of the last failure on this handle ("" after a success). */
HG_API const char *hg_store_errmsg(const hg_store *store);
/* "sqlite" or "postgres". */
HG_API const char *hg_store_backend(const hg_store *store);
/* The schema version the database is at (the number of migrations run). */
HG_API hg_status hg_store_schema_version(hg_store *store, int *out);

/* Runs the backend's integrity check (SQLite: PRAGMA integrity_check;
 * PostgreSQL: amcheck's bt_index_check on hashgate's indexes, plus the
 * bank/entry invariants on both). HG_OK when clean; HG_ERR_CORRUPT with the
 * first problem in hg_store_errmsg() otherwise. */
HG_API hg_status hg_store_check(hg_store *store);

/* ---- banks -------------------------------------------------------------- */

/*
 * Creates bank spec->name in spec->tenant with spec's description, action,
 * radius and enabled (hg_bank_init() gives the defaults). The new bank is at
 * version 1. `actor` (may be NULL) is recorded in its history. *out (may be
 * NULL) receives the stored bank. HG_ERR_INVALID_ARG for a spec that fails
 * hg_bank_check(), HG_ERR_EXISTS if the name is taken in that tenant.
 */
HG_API hg_status hg_store_bank_create(hg_store *store, const hg_bank *spec,
				      const char *actor, hg_bank *out);

/* Updates description, action, radius and enabled of the bank
 * (spec->tenant, spec->name); bumps its version. HG_ERR_NOT_FOUND if absent. */
HG_API hg_status hg_store_bank_update(hg_store *store, const hg_bank *spec,
				      const char *actor, hg_bank *out);

/* Reads a bank (with live_entries) by tenant and name. HG_ERR_NOT_FOUND if
 * there is no such bank in that tenant. */
HG_API hg_status hg_store_bank_get(hg_store *store, const char *tenant, const char *name,
				   hg_bank *out);

/* Calls fn for each bank of `tenant` (NULL: every tenant) by tenant, name.
 * A non-zero return from fn stops the walk (the call still returns HG_OK). */
typedef int (*hg_bank_fn)(void *ctx, const hg_bank *bank);
HG_API hg_status hg_store_bank_list(hg_store *store, const char *tenant, hg_bank_fn fn,
				    void *ctx);

/*
 * Deletes a bank: every live entry is soft-deleted (removed_by = actor,
 * reason "bank deleted"), the bank's version is bumped, and the bank leaves
 * hg_store_bank_get/list — its name is free for a new bank. The rows stay
 * for audit (history, removed entries) under the old bank id, and
 * hg_store_changes(bank_id, ...) still reports the removals, so an index
 * following the bank empties itself. HG_ERR_NOT_FOUND if absent.
 */
HG_API hg_status hg_store_bank_delete(hg_store *store, const char *tenant, const char *name,
				      const char *actor);

/* ---- entries --------------------------------------------------------------- */

/* An entry as read back. Strings are NULL when absent and valid only during
 * the callback that receives the entry. */
typedef struct hg_entry {
	int64_t id;             /* unique in the store */
	int64_t bank_id;
	hg_signal signal;
	const char *value;      /* normal form (hg_signal_normalize) */
	const char *external_id;
	const char *source;
	const char *added_by;
	int64_t added_at;       /* unix seconds */
	int64_t added_version;
	const char *removed_by;
	const char *removed_reason;
	int64_t removed_at;     /* 0 while live */
	int64_t removed_version;/* 0 while live */
} hg_entry;
typedef int (*hg_entry_fn)(void *ctx, const hg_entry *entry);

/* One entry to add or remove. value need not be normalised; external_id and
 * source may be NULL. */
typedef struct hg_entry_input {
	hg_signal signal;
	const char *value;
	size_t value_len;
	const char *external_id;
	const char *source;
} hg_entry_input;

/* What an import or removal did. */
typedef struct hg_change_result {
	int64_t added;     /* entries that became live */
	int64_t unchanged; /* already live with the same signal and value, or repeated
			    * within this import (idempotence) */
	int64_t removed;   /* entries soft-deleted */
	int64_t not_found; /* removals that matched no live entry */
	int64_t version;   /* the bank's version afterwards (unchanged if nothing changed) */
} hg_change_result;

/*
 * An import: many entries added to one bank in one transaction and one
 * version. begin -> add (any number) -> commit, or abort. Nothing is visible
 * to other readers before commit; if the process dies before commit the bank
 * is as it was. An entry whose (signal, value) is already live in the bank
 * is counted as unchanged and keeps its original metadata; when nothing
 * new was added the commit leaves the version as it was.
 *
 * The store is busy (no other calls on it) between begin and commit/abort.
 */
typedef struct hg_import hg_import;

/* `actor` (added_by, may be NULL) and `default_source` (used for entries
 * with no source; may be NULL) must be valid hg_text_check() fields.
 * HG_ERR_NOT_FOUND if the bank does not exist. */
HG_API hg_status hg_import_begin(hg_store *store, const char *tenant, const char *bank,
				 const char *actor, const char *default_source,
				 hg_import **out);
/* Validates and stages one entry. HG_ERR_PARSE (message on the store) for an
 * invalid value or field: the entry is not staged and the import may go on.
 * Any other failure poisons the import: commit then fails. */
HG_API hg_status hg_import_add(hg_import *imp, const hg_entry_input *entry);
/* Applies everything staged as one new bank version and frees imp. On
 * failure nothing is applied. *result may be NULL. */
HG_API hg_status hg_import_commit(hg_import *imp, hg_change_result *result);
/* Discards everything staged and frees imp. NULL is a no-op. */
HG_API void hg_import_abort(hg_import *imp);

/*
 * Soft-deletes the live entries matching each (signal, value) in `entries`
 * (n of them) in one transaction and one version: removed_by = actor,
 * removed_reason = reason (both may be NULL). Counts in *result.
 * HG_ERR_PARSE if any value is invalid (nothing removed).
 */
HG_API hg_status hg_store_remove(hg_store *store, const char *tenant, const char *bank,
				 const hg_entry_input *entries, size_t n, const char *actor,
				 const char *reason, hg_change_result *result);
/* The same, by entry id (ids not live in this bank count as not_found). */
HG_API hg_status hg_store_remove_ids(hg_store *store, const char *tenant, const char *bank,
				     const int64_t *ids, size_t n, const char *actor,
				     const char *reason, hg_change_result *result);

/*
 * Calls fn for every entry of the bank that was live at `version` (0: the
 * current version), in the order they were added (version, then id), from
 * one consistent snapshot. With
 * `include_removed` (only with version 0) removed entries are included too.
 * HG_ERR_NOT_FOUND for an unknown bank or a version above the current one.
 */
HG_API hg_status hg_store_entries(hg_store *store, const char *tenant, const char *bank,
				  int64_t version, int include_removed, hg_entry_fn fn,
				  void *ctx);

/*
 * One page of the bank's entries in id order: at most `limit` (1..10000)
 * entries with id > after_id, live ones only unless include_removed.
 * *next_after (may be NULL) gets the last id returned, or 0 at the end.
 * For HTTP listings; exports should use hg_store_entries.
 */
HG_API hg_status hg_store_entries_page(hg_store *store, const char *tenant, const char *bank,
				       int64_t after_id, int limit, int include_removed,
				       hg_entry_fn fn, void *ctx, int64_t *next_after);

/*
 * The change feed: calls fn(ctx, entry, removed) for every entry of bank
 * `bank_id` added (removed = 0) or removed (removed = 1) in versions
 * since < v <= *until, all additions first (by version, then id), then all
 * removals (likewise). *until is
 * in/out: pass 0 to mean "up to the current version"; on return it is the
 * version the caller is now at. Reads one snapshot, so a follower that
 * applies the calls and remembers *until stays exact.
 */
typedef int (*hg_change_fn)(void *ctx, const hg_entry *entry, int removed);
HG_API hg_status hg_store_changes(hg_store *store, int64_t bank_id, int64_t since,
				  int64_t *until, hg_change_fn fn, void *ctx);

/* Per-bank counts. */
typedef struct hg_bank_stats {
	int64_t version;
	int64_t live[HG_SIGNAL_COUNT_]; /* live entries by signal type */
	int64_t live_total;
	int64_t removed_total;          /* soft-deleted rows kept for audit */
	int64_t versions;               /* rows in the bank's history */
} hg_bank_stats;
HG_API hg_status hg_store_bank_stats(hg_store *store, const char *tenant, const char *bank,
				     hg_bank_stats *out);

/* One row of a bank's history: every version and what made it. kind is
 * "create", "edit", "import" or "remove". Strings valid during the call. */
typedef struct hg_bank_version {
	int64_t version;
	int64_t at;       /* unix seconds */
	const char *kind;
	const char *actor;
	const char *note;
	int64_t added, removed;
} hg_bank_version;
typedef int (*hg_version_fn)(void *ctx, const hg_bank_version *v);
HG_API hg_status hg_store_history(hg_store *store, const char *tenant, const char *bank,
				  hg_version_fn fn, void *ctx);

/* ---- list files -------------------------------------------------------------
 * Formats hash lists arrive in (docs/banks.md):
 *   text   one entry per line: [TYPE:]VALUE[,EXTERNAL_ID]; '#' comments and
 *          blank lines skipped; TYPE defaults to --signal, else by length
 *   csv    a header naming columns: signal_type, signal_value (or value),
 *          external_id, source (others ignored), then one entry per row
 *   jsonl  one JSON object per line with the same keys
 */
typedef enum hg_list_format {
	HG_LIST_TEXT = 0,
	HG_LIST_CSV = 1,
	HG_LIST_JSONL = 2,
	HG_LIST_FORMAT_COUNT_
} hg_list_format;

/* Longest accepted input line, bytes (a vPDQ value plus metadata fits). */
#define HG_LIST_LINE_MAX (512 * 1024)

/* "text", "csv", "jsonl". */
HG_API const char *hg_list_format_name(hg_list_format format);
/* Parses a format name ("txt" accepted); HG_ERR_PARSE otherwise. */
HG_API hg_status hg_list_format_parse(const char *text, hg_list_format *out);

/* A line parser: feed lines in order (line numbers count from 1). */
typedef struct hg_list_parser hg_list_parser;

/* default_signal: the type for text lines without a TYPE: prefix, or -1 to
 * infer it from the value's length (hg_signal_infer). */
HG_API hg_status hg_list_parser_new(hg_list_format format, int default_signal,
				    hg_list_parser **out);
HG_API void hg_list_parser_free(hg_list_parser *parser);
/*
 * Parses one line (without its newline; a trailing CR is ignored). Returns
 * HG_OK with *has_entry = 1 and *entry filled (pointers valid until the next
 * call), HG_OK with *has_entry = 0 for a blank, comment or header line, or
 * HG_ERR_PARSE / HG_ERR_TOO_LARGE with the reason in
 * hg_list_parser_errmsg(). Values are validated and normalised.
 */
HG_API hg_status hg_list_parse_line(hg_list_parser *parser, const char *line, size_t len,
				    hg_entry_input *entry, int *has_entry);
HG_API const char *hg_list_parser_errmsg(const hg_list_parser *parser);

/* Reports one bad line of a file; return non-zero to stop reading. */
typedef int (*hg_bad_line_fn)(void *ctx, int64_t line, const char *message);

typedef struct hg_import_opts {
	hg_list_format format;
	int default_signal;  /* as hg_list_parser_new(); -1 to infer */
	int strict;          /* any bad line rejects the whole file */
	const char *actor;   /* added_by; may be NULL */
	const char *source;  /* source for entries without one; may be NULL */
} hg_import_opts;

/*
 * Imports a list file ("-" = stdin) into a bank as one transaction. Bad
 * lines go to bad_line (may be NULL) with their line numbers and are
 * skipped; with opts->strict the first bad line aborts the import (nothing
 * changes) and HG_ERR_PARSE is returned. *bad_lines (may be NULL) counts
 * them. The store's message names the first bad line.
 */
HG_API hg_status hg_store_import_file(hg_store *store, const char *tenant, const char *bank,
				      const char *path, const hg_import_opts *opts,
				      hg_bad_line_fn bad_line, void *ctx,
				      int64_t *bad_lines, hg_change_result *result);

/* hg_store_import_file() over `len` bytes in memory (an HTTP body). */
HG_API hg_status hg_store_import_buffer(hg_store *store, const char *tenant, const char *bank,
					const void *data, size_t len, const hg_import_opts *opts,
					hg_bad_line_fn bad_line, void *ctx, int64_t *bad_lines,
					hg_change_result *result);

/* Writes one entry in `format` plus a newline to the caller's buffer (csv:
 * the row only; hg_list_header() gives the header line). The text form is
 * VALUE[,EXTERNAL_ID] with a TYPE: prefix when the type is not the one
 * inferred from the value's length, so `import` reads it back exactly.
 * Returns the length written, or 0 when bufsz is too small (2 *
 * HG_LIST_LINE_MAX always suffices). */
HG_API size_t hg_list_format_entry(hg_list_format format, const hg_entry *entry,
				   char *buf, size_t bufsz);
/* The header line of a format (csv), "" for the others. */
HG_API const char *hg_list_header(hg_list_format format);

#ifdef __cplusplus
}
#endif
#endif
