/*
 * index_file.c — hg_index snapshots on disk: written to a temporary file
 * through a shared mapping and renamed into place (readers never see a
 * half-written snapshot), loaded with a read-only private mapping that the
 * index then uses in place until it no longer needs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashgate/index.h"

static hg_status io_fail(char *err, size_t errlen, const char *what, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return HG_ERR_IO;
}

struct writer {
	int fd;
	void *map;
	size_t len;
	int err;
};

static void *map_output(void *ctx, size_t size, hg_status *status)
{
	struct writer *w = ctx;
	if (ftruncate(w->fd, (off_t)size) != 0) {
		w->err = errno;
		*status = HG_ERR_IO;
		return NULL;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (p == MAP_FAILED) {
		w->err = errno;
		*status = HG_ERR_IO;
		return NULL;
	}
	w->map = p;
	w->len = size;
	return p;
}

hg_status hg_index_save_file(hg_index *idx, const char *path, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!idx || !path)
		return HG_ERR_INVALID_ARG;
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 32);
	if (!tmp)
		return HG_ERR_NOMEM;
	snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
	struct writer w = {.fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
	if (w.fd < 0) {
		hg_status st = io_fail(err, errlen, "cannot create", tmp);
		free(tmp);
		return st;
	}
	size_t size;
	hg_status st = hg_index_snapshot(idx, map_output, &w, &size);
	if (st == HG_ERR_IO) {
		errno = w.err;
		io_fail(err, errlen, "cannot size or map", tmp);
	}
	if (w.map && munmap(w.map, w.len) != 0 && st == HG_OK)
		st = io_fail(err, errlen, "cannot unmap", tmp);
	if (st == HG_OK && fsync(w.fd) != 0)
		st = io_fail(err, errlen, "cannot sync", tmp);
	if (close(w.fd) != 0 && st == HG_OK)
		st = io_fail(err, errlen, "cannot close", tmp);
	if (st == HG_OK && rename(tmp, path) != 0)
		st = io_fail(err, errlen, "cannot rename to", path);
	if (st != HG_OK)
		unlink(tmp);
	free(tmp);
	return st;
}

struct mapping {
	void *p;
	size_t len;
};

static void unmap(void *ctx)
{
	struct mapping *m = ctx;
	munmap(m->p, m->len);
	free(m);
}

hg_status hg_index_load_file(const char *path, hg_index **out, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return HG_ERR_INVALID_ARG;
	*out = NULL;
	if (!path)
		return HG_ERR_INVALID_ARG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(err, errlen, "cannot open", path);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		hg_status s = io_fail(err, errlen, "cannot stat", path);
		close(fd);
		return s;
	}
	if (st.st_size == 0) {
		close(fd);
		if (err && errlen)
			snprintf(err, errlen, "%s: empty file", path);
		return HG_ERR_EMPTY;
	}
	struct mapping *m = malloc(sizeof *m);
	if (!m) {
		close(fd);
		return HG_ERR_NOMEM;
	}
	m->len = (size_t)st.st_size;
	/* MAP_POPULATE: the checksum reads every page anyway; faulting them in
	 * one go is several times faster than one fault per 4 KiB. */
	m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED) {
		free(m);
		return io_fail(err, errlen, "cannot map", path);
	}
	hg_status s = hg_index_load_snapshot(m->p, m->len, unmap, m, out, err, errlen);
	if (s != HG_OK) {
		if (err && errlen) {
			size_t k = strlen(err);
			char tail[256];
			snprintf(tail, sizeof tail, "%s", err);
			snprintf(err, errlen, "%s: %s", path, k ? tail : hg_strerror(s));
		}
		unmap(m);
	}
	return s;
}
