/*
 * bank.c — the bank model's rules: names, actions, signal types, the
 * normal form of every signal value, free-text fields, CSV splitting. Pure
 * functions over caller buffers; the store, CLI and service all call these,
 * so a value the store accepts is one every exporter can write back out.
 */
#include "hashgate/bank.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hashgate/pdq.h"
#include "hashgate/vpdq.h"

static const char *const action_names[HG_ACTION_COUNT_] = {"block", "review", "allow"};
static const char *const signal_names[HG_SIGNAL_COUNT_] = {"pdq", "md5", "sha1", "sha256",
							   "vpdq"};

static void say(char *msg, size_t msgsz, const char *fmt, ...)
{
	if (!msg || !msgsz)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
}

void hg_bank_init(hg_bank *bank)
{
	memset(bank, 0, sizeof *bank);
	snprintf(bank->tenant, sizeof bank->tenant, "%s", HG_DEFAULT_TENANT);
	bank->action = HG_ACTION_BLOCK;
	bank->radius = HG_PDQ_MATCH_RADIUS;
	bank->enabled = 1;
}

const char *hg_action_name(hg_action action)
{
	return (unsigned)action < HG_ACTION_COUNT_ ? action_names[action] : "?";
}

hg_status hg_action_parse(const char *text, hg_action *out)
{
	if (!text || !out)
		return HG_ERR_INVALID_ARG;
	for (int a = 0; a < HG_ACTION_COUNT_; a++) {
		if (!strcmp(text, action_names[a])) {
			*out = (hg_action)a;
			return HG_OK;
		}
	}
	if (!strcmp(text, "allow-list") || !strcmp(text, "allowlist")) {
		*out = HG_ACTION_ALLOW;
		return HG_OK;
	}
	return HG_ERR_PARSE;
}

const char *hg_signal_name(hg_signal signal)
{
	return (unsigned)signal < HG_SIGNAL_COUNT_ ? signal_names[signal] : "?";
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

hg_status hg_signal_parse(const char *text, size_t len, hg_signal *out)
{
	if (!text || !out)
		return HG_ERR_INVALID_ARG;
	char buf[8];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '-')
			continue; /* sha-1, sha-256 */
		if (n + 1 >= sizeof buf)
			return HG_ERR_PARSE;
		buf[n++] = (char)lower((unsigned char)text[i]);
	}
	buf[n] = '\0';
	for (int s = 0; s < HG_SIGNAL_COUNT_; s++) {
		if (!strcmp(buf, signal_names[s])) {
			*out = (hg_signal)s;
			return HG_OK;
		}
	}
	return HG_ERR_PARSE;
}

static int is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

hg_status hg_bank_name_check(const char *name)
{
	if (!name || !is_alnum((unsigned char)name[0]))
		return HG_ERR_INVALID_ARG;
	size_t n = 0;
	for (; name[n]; n++) {
		int c = (unsigned char)name[n];
		if (n >= HG_BANK_NAME_MAX || !(is_alnum(c) || c == '.' || c == '_' || c == '-'))
			return HG_ERR_INVALID_ARG;
	}
	return HG_OK;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

hg_status hg_text_check(const char *text, size_t len, size_t max)
{
	if (!text && len)
		return HG_ERR_INVALID_ARG;
	if (len > max)
		return HG_ERR_PARSE;
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return HG_ERR_PARSE;
		size_t k = utf8_len(s + i, len - i);
		if (!k)
			return HG_ERR_PARSE;
		i += k;
	}
	return HG_OK;
}

hg_status hg_bank_check(const hg_bank *bank, char *msg, size_t msgsz)
{
	if (!bank)
		return HG_ERR_INVALID_ARG;
	if (hg_bank_name_check(bank->name)) {
		say(msg, msgsz, "bad bank name '%.80s': 1-%d characters from A-Z a-z 0-9 . _ -, "
			"starting with a letter or digit", bank->name, HG_BANK_NAME_MAX);
		return HG_ERR_INVALID_ARG;
	}
	if (hg_bank_name_check(bank->tenant)) {
		say(msg, msgsz, "bad tenant name '%.80s'", bank->tenant);
		return HG_ERR_INVALID_ARG;
	}
	if ((unsigned)bank->action >= HG_ACTION_COUNT_) {
		say(msg, msgsz, "bad action %d", (int)bank->action);
		return HG_ERR_INVALID_ARG;
	}
	if (bank->radius < 0 || bank->radius > HG_BANK_RADIUS_MAX) {
		say(msg, msgsz, "radius %d out of range 0..%d", bank->radius, HG_BANK_RADIUS_MAX);
		return HG_ERR_INVALID_ARG;
	}
	size_t dlen = strnlen(bank->description, sizeof bank->description);
	if (dlen == sizeof bank->description ||
	    hg_text_check(bank->description, dlen, HG_BANK_DESC_MAX)) {
		say(msg, msgsz, "description must be valid UTF-8 without control characters, "
			"at most %d bytes", HG_BANK_DESC_MAX);
		return HG_ERR_INVALID_ARG;
	}
	return HG_OK;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

hg_status hg_signal_infer(const char *text, size_t len, hg_signal *out)
{
	if (!text || !out)
		return HG_ERR_INVALID_ARG;
	while (len && is_blank((unsigned char)*text))
		text++, len--;
	while (len && is_blank((unsigned char)text[len - 1]))
		len--;
	for (size_t i = 0; i < len; i++)
		if (hexval((unsigned char)text[i]) < 0)
			return HG_ERR_PARSE;
	switch (len) {
	case 32: *out = HG_SIGNAL_MD5; return HG_OK;
	case 40: *out = HG_SIGNAL_SHA1; return HG_OK;
	case 64: *out = HG_SIGNAL_PDQ; return HG_OK;
	default: return HG_ERR_PARSE;
	}
}

/* Copies `want` hex digits from text (exactly `len` bytes) lowercased. */
static hg_status norm_hex(const char *text, size_t len, size_t want, char *out,
			  const char *what, char *msg, size_t msgsz)
{
	if (len != want) {
		say(msg, msgsz, "%s needs %zu hex digits, got %zu characters", what, want, len);
		return HG_ERR_PARSE;
	}
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)text[i];
		if (hexval(c) < 0) {
			say(msg, msgsz, "%s: '%c' is not a hex digit", what, c >= 0x20 && c < 0x7f ? c : '?');
			return HG_ERR_PARSE;
		}
		out[i] = (char)lower(c);
	}
	out[len] = '\0';
	return HG_OK;
}

hg_status hg_signal_normalize(hg_signal signal, const char *text, size_t len, char *out,
			      size_t outsz, size_t *outlen, char *msg, size_t msgsz)
{
	if ((!text && len) || !out || (unsigned)signal >= HG_SIGNAL_COUNT_)
		return HG_ERR_INVALID_ARG;
	while (len && is_blank((unsigned char)*text))
		text++, len--;
	while (len && is_blank((unsigned char)text[len - 1]))
		len--;
	static const size_t digits[HG_SIGNAL_COUNT_] = {64, 32, 40, 64, 64};
	size_t n = 0;
	if (signal != HG_SIGNAL_VPDQ) {
		if (outsz < digits[signal] + 1)
			return HG_ERR_TOO_LARGE;
		hg_status st = norm_hex(text, len, digits[signal], out, signal_names[signal], msg, msgsz);
		if (st)
			return st;
		n = digits[signal];
	} else {
		size_t frames = 0, i = 0;
		while (i < len) {
			while (i < len && (is_blank((unsigned char)text[i]) || text[i] == ',' || text[i] == ';'))
				i++;
			if (i == len)
				break;
			size_t start = i;
			while (i < len && !(is_blank((unsigned char)text[i]) || text[i] == ',' || text[i] == ';'))
				i++;
			if (++frames > HG_VPDQ_MAX_FRAMES) {
				say(msg, msgsz, "vpdq: more than %d frame hashes", HG_VPDQ_MAX_FRAMES);
				return HG_ERR_PARSE;
			}
			hg_vpdq_frame f;
			int fields;
			char tok[HG_VPDQ_TOKEN_MAX + 1];
			size_t tlen = 0;
			if (hg_vpdq_token_parse(text + start, i - start, &f, &fields) == HG_OK)
				tlen = hg_vpdq_token_format(&f, fields, tok, sizeof tok);
			if (!tlen) {
				say(msg, msgsz, "vpdq frame %zu: not hex[:quality[:frame:timestamp]] "
				    "(64 hex digits, quality 0..100)", frames);
				return HG_ERR_PARSE;
			}
			if (n + (n ? 1 : 0) + tlen + 1 > outsz)
				return HG_ERR_TOO_LARGE;
			if (n)
				out[n++] = ' ';
			memcpy(out + n, tok, tlen);
			n += tlen;
		}
		if (!frames) {
			say(msg, msgsz, "vpdq: no frame hashes");
			return HG_ERR_PARSE;
		}
	}
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return HG_OK;
}

hg_status hg_csv_split(const char *line, size_t len, char *buf, size_t bufsz,
		       const char **fields, size_t maxfields, size_t *nfields)
{
	if ((!line && len) || !buf || !fields || !nfields || !maxfields)
		return HG_ERR_INVALID_ARG;
	if (len + 1 > bufsz)
		return HG_ERR_TOO_LARGE;
	size_t nf = 0, o = 0, i = 0;
	for (;;) {
		if (nf == maxfields)
			return HG_ERR_TOO_LARGE;
		fields[nf++] = buf + o;
		if (i < len && line[i] == '"') {
			for (i++;; i++) {
				if (i == len)
					return HG_ERR_PARSE; /* unterminated quote */
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						buf[o++] = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				buf[o++] = line[i];
			}
			if (i < len && line[i] != ',')
				return HG_ERR_PARSE; /* text after the closing quote */
		} else {
			for (; i < len && line[i] != ','; i++) {
				if (line[i] == '"')
					return HG_ERR_PARSE;
				buf[o++] = line[i];
			}
		}
		buf[o++] = '\0';
		if (i == len)
			break;
		i++; /* the comma */
	}
	*nfields = nf;
	return HG_OK;
}
