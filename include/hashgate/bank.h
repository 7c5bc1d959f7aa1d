/*
 * bank.h — the bank model: what a hash list ("bank") and its entries are,
 * and the rules every stored value must satisfy. Pure validation, no I/O:
 * the store (store.h), the CLI and the HTTP service all check input here so
 * the rules exist once.
 *
 *   bank  (tenant, name) unique; action block | review | allow; PDQ radius;
 *         enabled; version — bumped by every change to the bank or its entries
 *   entry signal type + normalised value; external id and source from the
 *         list it came from; added by/at/version; removed by/at/version with
 *         a reason (removal is a soft delete: the row stays for audit)
 */
#ifndef HASHGATE_BANK_H
#define HASHGATE_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "hashgate/status.h"
#include "hashgate/vpdq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits on every stored text field, in bytes (UTF-8), excluding the NUL. */
#define HG_BANK_NAME_MAX 64      /* bank names and tenant names */
#define HG_BANK_DESC_MAX 1024    /* bank description */
#define HG_FIELD_MAX 256         /* external id, source, actor (added/removed by) */
#define HG_REASON_MAX 1024       /* removal reason */
#define HG_VPDQ_MAX_FRAMES 4096  /* frame hashes in one vPDQ value */
/* Longest normalised signal value: a vPDQ value of HG_VPDQ_MAX_FRAMES
 * frames, each with quality, frame number and timestamp (vpdq.h). */
#define HG_SIGNAL_VALUE_MAX (HG_VPDQ_MAX_FRAMES * (HG_VPDQ_TOKEN_MAX + 1) - 1)
/* Largest per-bank PDQ radius accepted (the reference threshold is 31). */
#define HG_BANK_RADIUS_MAX 64
/* The tenant used when none is given (CLI). */
#define HG_DEFAULT_TENANT "default"

/* What a match against the bank means. Numbers are stored; never renumber. */
typedef enum hg_action {
	HG_ACTION_BLOCK = 0,  /* reject the upload */
	HG_ACTION_REVIEW = 1, /* accept, queue for a human */
	HG_ACTION_ALLOW = 2,  /* allow-list: known false positives; beats block */
	HG_ACTION_COUNT_
} hg_action;

/* The kinds of signal a bank entry can hold. */
typedef enum hg_signal {
	HG_SIGNAL_PDQ = 0,    /* 64 hex digits, perceptual, matched within the radius */
	HG_SIGNAL_MD5 = 1,    /* 32 hex digits of the file bytes, exact */
	HG_SIGNAL_SHA1 = 2,   /* 40 hex digits, exact */
	HG_SIGNAL_SHA256 = 3, /* 64 hex digits, exact */
	HG_SIGNAL_VPDQ = 4,   /* video: 1..HG_VPDQ_MAX_FRAMES PDQ hex hashes, space-separated */
	HG_SIGNAL_COUNT_
} hg_signal;

/* A bank as stored. Fixed-size strings so a bank can be copied by value. */
typedef struct hg_bank {
	int64_t id;                            /* store's id; 0 before creation */
	char tenant[HG_BANK_NAME_MAX + 1];
	char name[HG_BANK_NAME_MAX + 1];
	char description[HG_BANK_DESC_MAX + 1];
	hg_action action;
	int radius;                            /* PDQ match radius, 0..HG_BANK_RADIUS_MAX */
	int enabled;                           /* 0: kept but not matched */
	int64_t version;                       /* 1 after creation, +1 per change */
	int64_t created_at;                    /* unix seconds */
	int64_t live_entries;                  /* entries not removed (filled by the store) */
} hg_bank;

/* Fills *bank with the defaults: tenant HG_DEFAULT_TENANT, action block,
 * radius HG_PDQ_MATCH_RADIUS (31), enabled, empty name and description. */
HG_API void hg_bank_init(hg_bank *bank);

/* "block", "review", "allow"; "?" when out of range. */
HG_API const char *hg_action_name(hg_action action);
/* Parses "block", "review", "allow" (also "allow-list", "allowlist").
 * HG_ERR_PARSE otherwise. */
HG_API hg_status hg_action_parse(const char *text, hg_action *out);

/* "pdq", "md5", "sha1", "sha256", "vpdq"; "?" when out of range. */
HG_API const char *hg_signal_name(hg_signal signal);
/* Parses exactly `len` bytes of a signal name (case-insensitive; "sha-1" and
 * "sha-256" accepted). HG_ERR_PARSE otherwise. */
HG_API hg_status hg_signal_parse(const char *text, size_t len, hg_signal *out);

/* A bank or tenant name: 1..HG_BANK_NAME_MAX characters from [A-Za-z0-9._-],
 * starting with a letter or digit. HG_OK or HG_ERR_INVALID_ARG. */
HG_API hg_status hg_bank_name_check(const char *name);

/* Checks a whole hg_bank for creation/update: names, action, radius,
 * description (valid UTF-8, no control characters). On failure writes a
 * reason into msg (msgsz bytes, may be 0) and returns HG_ERR_INVALID_ARG. */
HG_API hg_status hg_bank_check(const hg_bank *bank, char *msg, size_t msgsz);

/* A free-text field (external id, source, actor, reason): at most `max`
 * bytes of valid UTF-8 without control characters (tab included, so every
 * field survives CSV, JSONL and line-based exports). HG_OK or HG_ERR_PARSE. */
HG_API hg_status hg_text_check(const char *text, size_t len, size_t max);

/*
 * Guesses a signal type from the length of a hex value: 32 -> md5,
 * 40 -> sha1, 64 -> pdq (a 64-digit SHA-256 list needs an explicit type:
 * `sha256:` prefix, a CSV signal_type column or --signal). HG_ERR_PARSE if the
 * length fits none.
 */
HG_API hg_status hg_signal_infer(const char *text, size_t len, hg_signal *out);

/*
 * Validates `len` bytes of `text` as a value of `signal` and writes its
 * normal form into out (NUL-terminated, outsz bytes; HG_SIGNAL_VALUE_MAX + 1
 * is always enough): hex lowercased; surrounding blanks trimmed; for vPDQ the
 * frame tokens (hex[:quality[:frame:timestamp]], vpdq.h) in their normal
 * form, separated by single spaces (commas, semicolons and blanks are all
 * accepted as separators). *outlen (may be NULL) gets the length.
 * HG_ERR_PARSE with a reason in msg (msgsz bytes) when invalid;
 * HG_ERR_TOO_LARGE when out is too small.
 */
HG_API hg_status hg_signal_normalize(hg_signal signal, const char *text, size_t len,
				     char *out, size_t outsz, size_t *outlen,
				     char *msg, size_t msgsz);

/*
 * Splits one CSV line (RFC 4180: fields separated by commas, optionally in
 * double quotes with "" for a quote; no embedded newlines) into at most
 * `maxfields` fields. The unquoted text of every field is written into buf
 * (bufsz bytes, NUL-separated); fields[i] points into buf. Returns HG_OK and
 * *nfields, HG_ERR_PARSE on a stray quote, HG_ERR_TOO_LARGE when the line
 * has more fields than maxfields or does not fit buf (line length + 1 fits).
 */
HG_API hg_status hg_csv_split(const char *line, size_t len, char *buf, size_t bufsz,
			      const char **fields, size_t maxfields, size_t *nfields);

#ifdef __cplusplus
}
#endif
#endif
