/*
 * vpdq_list.c — reading vPDQ hashes from text files: the reference's
 * per-video files and the multi-video lists `hashgate hash` prints.
 */
#include "hashgate/video.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hg_vpdq_list_release(hg_vpdq_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->videos[i].name);
		free(list->videos[i].frames);
	}
	free(list->videos);
	memset(list, 0, sizeof *list);
}

/* Starts a new video called `name` (len bytes). */
static hg_status new_video(hg_vpdq_list *list, size_t *cap, const char *name, size_t len)
{
	if (list->count == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		hg_vpdq_video *v = realloc(list->videos, n * sizeof *v);
		if (!v)
			return HG_ERR_NOMEM;
		list->videos = v;
		*cap = n;
	}
	char *copy = strndup(name, len);
	if (!copy)
		return HG_ERR_NOMEM;
	list->videos[list->count++] = (hg_vpdq_video){copy, NULL, 0};
	return HG_OK;
}

static hg_status push_frame(hg_vpdq_video *v, size_t *cap, const hg_vpdq_frame *f)
{
	if (v->count == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		hg_vpdq_frame *fr = realloc(v->frames, n * sizeof *fr);
		if (!fr)
			return HG_ERR_NOMEM;
		v->frames = fr;
		*cap = n;
	}
	v->frames[v->count++] = *f;
	return HG_OK;
}

/* The name for four-field lines: the file name without directory and .txt. */
static void file_name(const char *path, const char **name, size_t *len)
{
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	*len = strlen(*name);
	if (*len > 4 && !strcmp(*name + *len - 4, ".txt"))
		*len -= 4;
}

/* A bank list line "vpdq:<value>[,name]" (hashgate hash --entry): one whole
 * video, named after the file when the line has no name. */
static hg_status entry_line(hg_vpdq_list *list, size_t *vcap, const char *text, size_t len,
			    const char *fname, size_t fname_len)
{
	const char *comma = memchr(text, ',', len);
	size_t vlen = comma ? (size_t)(comma - text) : len;
	const char *name = comma ? comma + 1 : fname;
	size_t name_len = comma ? len - vlen - 1 : fname_len;
	if (name_len == 0)
		return HG_ERR_PARSE;
	hg_vpdq_frame *frames;
	size_t n;
	hg_status st = hg_vpdq_value_parse(text, vlen, &frames, &n);
	if (!st && (st = new_video(list, vcap, name, name_len)) != HG_OK)
		hg_vpdq_frames_free(frames);
	if (!st) {
		list->videos[list->count - 1].frames = frames;
		list->videos[list->count - 1].count = n;
	}
	return st;
}

hg_status hg_vpdq_list_read(const char *path, size_t max_lines, hg_vpdq_list *list,
			    size_t *bad_line)
{
	if (bad_line)
		*bad_line = 0;
	if (!path || !list)
		return HG_ERR_INVALID_ARG;
	FILE *f = fopen(path, "r");
	if (!f)
		return HG_ERR_IO;
	size_t first = list->count, vcap = list->count, fcap = 0, lineno = 0;
	const char *fname;
	size_t fname_len;
	file_name(path, &fname, &fname_len);
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	hg_status st = HG_OK;
	while (!st && (len = getline(&line, &linecap, f)) >= 0) {
		if (++lineno > max_lines) {
			st = HG_ERR_TOO_LARGE;
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (!strncmp(line, "vpdq:", 5)) {
			st = entry_line(list, &vcap, line + 5, (size_t)len - 5, fname, fname_len);
			fcap = 0;
			continue;
		}
		/* Split after the fourth comma: what follows is the name. */
		const char *p = line, *name = fname;
		size_t name_len = fname_len, fields_len = (size_t)len;
		for (int commas = 0; (p = strchr(p, ',')) != NULL; p++) {
			if (++commas == 4) {
				fields_len = (size_t)(p - line);
				name = p + 1;
				name_len = (size_t)len - fields_len - 1;
				break;
			}
		}
		hg_vpdq_frame fr;
		if (hg_vpdq_parse_line(line, fields_len, &fr) != HG_OK || name_len == 0) {
			st = HG_ERR_PARSE;
			break;
		}
		hg_vpdq_video *cur = list->count > first ? &list->videos[list->count - 1] : NULL;
		if (!cur || strlen(cur->name) != name_len || memcmp(cur->name, name, name_len)) {
			st = new_video(list, &vcap, name, name_len);
			fcap = 0;
			cur = st ? NULL : &list->videos[list->count - 1];
		}
		if (!st)
			st = push_frame(cur, &fcap, &fr);
	}
	if (!st && ferror(f))
		st = HG_ERR_IO;
	free(line);
	fclose(f);
	if (st) {
		if (bad_line && st == HG_ERR_PARSE)
			*bad_line = lineno;
		while (list->count > first) {
			list->count--;
			free(list->videos[list->count].name);
			free(list->videos[list->count].frames);
		}
	}
	return st;
}
