/*
 * bench_hash.c — how fast hashgate hashes photos, against libjpeg-turbo
 * decoding the same files, in one process and one thread.
 *
 *   bench_hash [--rounds N] [--conformance DIR] PATH...
 *
 * PATH is a JPEG file or a folder searched recursively for .jpg and .jpeg
 * (e.g. /usr/share/backgrounds/mate and the re-encodes that
 * scripts/make-bench-images.sh writes to build/bench-images). Files are read
 * into memory first, so no mode pays for I/O. Each round times every mode
 * over every file, in a rotated order; figures are medians over rounds of
 * thread CPU time, and ratios are taken within a round, so they hold on a
 * busy shared machine where absolute figures drift.
 *
 * Modes: libjpeg-turbo full RGB decode and grey 1/8-scale decode (the
 * baselines, default settings, one reused pixel buffer); hashgate's hash in
 * exact, --compat cli and --fast mode (hg_hash_bytes: decode + PDQ); and the
 * PDQ step alone (hg_pdq_hash_pixels on pixels decoded outside the timer).
 * It then reports how many bits fast mode differs from exact mode, on these
 * files and, with --conformance, on every JPEG under DIR.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <jpeglib.h>

#include "hashgate/hashgate.h"

/* The reference CLI's end-to-end rate quoted in issue 2 (8 to 10 images/s;
 * it cannot be built here, so it is a quoted figure, not a measurement). */
#define REF_CLI_IMAGES_PER_S_LO 8.0
#define REF_CLI_IMAGES_PER_S_HI 10.0
/* The reference's hash alone, as measured for issue 2. */
#define REF_HASH_NS_PER_PIXEL 15.6

struct file {
	char *path;
	unsigned char *data;
	size_t len, width, height;
};

struct files {
	struct file *v;
	size_t n, cap;
};

static int has_jpeg_suffix(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = NULL;
	long n = -1;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	*len = n > 0 ? (size_t)n : 0;
	return buf;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

/* Adds `path` (a JPEG) or every JPEG under it (a folder). */
static void collect(struct files *fs, const char *path, hg_decoder *dec)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "bench_hash: %s: not found\n", path);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char sub[4096];
			snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
			struct stat s2;
			if (stat(sub, &s2) == 0 && (S_ISDIR(s2.st_mode) || has_jpeg_suffix(sub)))
				collect(fs, sub, dec);
		}
		if (d)
			closedir(d);
		return;
	}
	struct file f = {0};
	f.data = slurp(path, &f.len);
	hg_format fmt;
	if (!f.data || hg_decoder_probe(dec, f.data, f.len, &fmt, &f.width, &f.height) != HG_OK ||
	    fmt != HG_FORMAT_JPEG) {
		fprintf(stderr, "bench_hash: %s: skipped (not a readable JPEG)\n", path);
		free(f.data);
		return;
	}
	f.path = strdup(path);
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 64;
		fs->v = realloc(fs->v, fs->cap * sizeof *fs->v);
		if (!fs->v) {
			fprintf(stderr, "bench_hash: out of memory\n");
			exit(1);
		}
	}
	fs->v[fs->n++] = f;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the libjpeg-turbo baselines ---------------------------------------- */

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
};

static void jerr_exit(j_common_ptr cinfo)
{
	longjmp(((struct jerr *)cinfo->err)->jmp, 1);
}

static unsigned char *pixbuf;
static size_t pixbuf_cap;

/* Decodes with libjpeg-turbo's defaults (islow, fancy upsampling) into one
 * reused buffer: the cheapest way to get the pixels. */
static int libjpeg_decode(const struct file *f, J_COLOR_SPACE cs, unsigned scale_denom)
{
	struct jpeg_decompress_struct cinfo;
	struct jerr err;
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = jerr_exit;
	if (setjmp(err.jmp)) {
		jpeg_destroy_decompress(&cinfo);
		return -1;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, f->data, (unsigned long)f->len);
	jpeg_read_header(&cinfo, TRUE);
	cinfo.out_color_space = cs;
	cinfo.scale_num = 1;
	cinfo.scale_denom = scale_denom;
	jpeg_start_decompress(&cinfo);
	const size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
	const size_t need = stride * cinfo.output_height;
	if (need > pixbuf_cap) {
		free(pixbuf);
		pixbuf = calloc(1, need);
		pixbuf_cap = pixbuf ? need : 0;
		if (!pixbuf) {
			jpeg_destroy_decompress(&cinfo);
			return -1;
		}
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW rows[8];
		for (int i = 0; i < 8; i++) {
			size_t y = cinfo.output_scanline + (size_t)i;
			rows[i] = pixbuf + (y < cinfo.output_height ? y : 0) * stride;
		}
		jpeg_read_scanlines(&cinfo, rows, 8);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	return 0;
}

/* ---- the modes ------------------------------------------------------------ */

struct ctx {
	hg_hasher *hasher;
	hg_decoder *dec;
	hg_pdq_hasher *pdq;
};

/* Each mode processes one file and returns the CPU seconds it spent on the
 * part being measured, or a negative value on failure. */
typedef double (*mode_fn)(struct ctx *c, const struct file *f);

static double mode_rgb(struct ctx *c, const struct file *f)
{
	(void)c;
	double t = cpu_now();
	return libjpeg_decode(f, JCS_RGB, 1) ? -1 : cpu_now() - t;
}

static double mode_grey8(struct ctx *c, const struct file *f)
{
	(void)c;
	double t = cpu_now();
	return libjpeg_decode(f, JCS_GRAYSCALE, 8) ? -1 : cpu_now() - t;
}

static double hash_with(struct ctx *c, const struct file *f, unsigned flags)
{
	hg_hashes out;
	double t = cpu_now();
	return hg_hash_bytes(c->hasher, f->data, f->len, flags, &out) ? -1 : cpu_now() - t;
}

static double mode_exact(struct ctx *c, const struct file *f)
{
	return hash_with(c, f, 0);
}

static double mode_cli(struct ctx *c, const struct file *f)
{
	return hash_with(c, f, HG_HASH_COMPAT_CLI);
}

static double mode_fast(struct ctx *c, const struct file *f)
{
	return hash_with(c, f, HG_HASH_FAST);
}

static double mode_pdq(struct ctx *c, const struct file *f)
{
	hg_image img;
	if (hg_decode(c->dec, f->data, f->len, &img))
		return -1;
	hg_pdq_result r;
	double t = cpu_now();
	hg_status st = hg_pdq_hash_pixels(c->pdq, img.pixels, img.width, img.height, img.stride,
					  img.channels, 0, &r);
	t = cpu_now() - t;
	hg_image_release(&img);
	return st ? -1 : t;
}

enum { M_RGB, M_GREY8, M_EXACT, M_CLI, M_FAST, M_PDQ, M_COUNT };
static const struct {
	const char *name;
	mode_fn fn;
} modes[M_COUNT] = {
	[M_RGB] = {"libjpeg-turbo decode, full RGB", mode_rgb},
	[M_GREY8] = {"libjpeg-turbo decode, grey 1/8", mode_grey8},
	[M_EXACT] = {"hashgate hash (exact)", mode_exact},
	[M_CLI] = {"hashgate hash --compat cli", mode_cli},
	[M_FAST] = {"hashgate hash --fast", mode_fast},
	[M_PDQ] = {"PDQ step alone (exact)", mode_pdq},
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- fast-mode accuracy ------------------------------------------------------ */

struct diffstat {
	int n, max, over10_q80, n_q80;
	double sum;
};

static void diff_one(struct ctx *c, const struct file *f, struct diffstat *d, int verbose)
{
	hg_hashes ex, fa;
	if (hg_hash_bytes(c->hasher, f->data, f->len, 0, &ex) ||
	    hg_hash_bytes(c->hasher, f->data, f->len, HG_HASH_FAST, &fa))
		return;
	int bits = hg_pdq_distance(&ex.pdq.hash[0], &fa.pdq.hash[0]);
	d->n++;
	d->sum += bits;
	if (bits > d->max)
		d->max = bits;
	if (ex.pdq.quality >= 80) {
		d->n_q80++;
		d->over10_q80 += bits > 10;
	}
	if (verbose)
		printf("  %3d bits  q %3d/%3d  %s\n", bits, ex.pdq.quality, fa.pdq.quality, f->path);
}

static void print_diff(const char *what, const struct diffstat *d)
{
	if (d->n == 0) {
		printf("%-28s no images\n", what);
		return;
	}
	printf("%-28s %3d images: mean %.2f bits, max %d; quality >= 80: %d of %d over 10 bits\n",
	       what, d->n, d->sum / d->n, d->max, d->over10_q80, d->n_q80);
}

static void free_files(struct files *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].path);
		free(fs->v[i].data);
	}
	free(fs->v);
}

int main(int argc, char **argv)
{
	int rounds = 3, verbose = 0;
	const char *conformance = NULL;
	struct ctx c = {0};
	if (hg_hasher_new(NULL, &c.hasher) || hg_decoder_new(NULL, &c.dec) ||
	    hg_pdq_hasher_new(&c.pdq)) {
		fprintf(stderr, "bench_hash: cannot create hashers\n");
		return 1;
	}
	struct files fs = {0}, conf = {0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--conformance") && i + 1 < argc)
			conformance = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else
			collect(&fs, argv[i], c.dec);
	}
	if (rounds < 1 || rounds > 100 || fs.n == 0) {
		fprintf(stderr, "usage: bench_hash [--rounds N] [--conformance DIR] [-v] PATH...\n"
				"  e.g. bench_hash --conformance ../shared/data/pdq-reference "
				"/usr/share/backgrounds/mate build/bench-images\n");
		return 2;
	}
	qsort(fs.v, fs.n, sizeof *fs.v, cmp_file);
	double mpix = 0, mbytes = 0;
	for (size_t i = 0; i < fs.n; i++) {
		mpix += (double)fs.v[i].width * (double)fs.v[i].height * 1e-6;
		mbytes += (double)fs.v[i].len * 1e-6;
	}
	printf("%zu JPEGs, %.1f megapixels (%.2f MP per image), %.1f MB; %d rounds, 1 thread\n",
	       fs.n, mpix, mpix / (double)fs.n, mbytes, rounds);

	double secs[M_COUNT][100];
	double ratio_exact[100], ratio_fast[100], ratio_cli[100];
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < M_COUNT; k++) {
			int m = (k + r) % M_COUNT;
			double total = 0;
			for (size_t i = 0; i < fs.n; i++) {
				double t = modes[m].fn(&c, &fs.v[i]);
				if (t < 0) {
					fprintf(stderr, "bench_hash: %s failed on %s\n", modes[m].name,
						fs.v[i].path);
					return 1;
				}
				total += t;
			}
			secs[m][r] = total;
		}
		ratio_exact[r] = secs[M_EXACT][r] / secs[M_RGB][r];
		ratio_cli[r] = secs[M_CLI][r] / secs[M_RGB][r];
		ratio_fast[r] = secs[M_FAST][r] / secs[M_GREY8][r];
		fprintf(stderr, "round %d: exact/rgb %.3f, fast/grey8 %.3f\n", r + 1, ratio_exact[r],
			ratio_fast[r]);
	}

	printf("\n%-34s %10s %10s %10s\n", "mode", "images/s", "ms/image", "ns/pixel");
	double med[M_COUNT];
	for (int m = 0; m < M_COUNT; m++) {
		med[m] = median(secs[m], rounds);
		printf("%-34s %10.1f %10.2f %10.2f\n", modes[m].name, (double)fs.n / med[m],
		       1e3 * med[m] / (double)fs.n, 1e3 * med[m] / mpix);
	}
	printf("\nratios (median of per-round ratios of CPU time)\n");
	printf("  exact / full RGB decode        %6.3f   (goal <= 1.5)\n",
	       median(ratio_exact, rounds));
	printf("  --compat cli / full RGB decode %6.3f\n", median(ratio_cli, rounds));
	printf("  fast / grey 1/8 decode         %6.3f   (goal <= 1.15)\n",
	       median(ratio_fast, rounds));
	printf("  PDQ step: %.2f ns/pixel; the reference's hash alone: %.1f ns/pixel (%.1fx)\n",
	       1e3 * med[M_PDQ] / mpix, REF_HASH_NS_PER_PIXEL,
	       REF_HASH_NS_PER_PIXEL / (1e3 * med[M_PDQ] / mpix));
	printf("  vs the reference CLI's quoted %.0f-%.0f images/s end to end (not measured "
	       "here; goal >= 10x):\n",
	       REF_CLI_IMAGES_PER_S_LO, REF_CLI_IMAGES_PER_S_HI);
	const int shown[] = {M_EXACT, M_CLI, M_FAST};
	for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
		double ips = (double)fs.n / med[shown[k]];
		printf("    %-30s %5.1fx to %5.1fx\n", modes[shown[k]].name,
		       ips / REF_CLI_IMAGES_PER_S_HI, ips / REF_CLI_IMAGES_PER_S_LO);
	}

	printf("\nfast mode against exact mode (PDQ bits differing)\n");
	struct diffstat d = {0};
	for (size_t i = 0; i < fs.n; i++)
		diff_one(&c, &fs.v[i], &d, verbose);
	print_diff("benchmark images", &d);
	if (conformance) {
		collect(&conf, conformance, c.dec);
		qsort(conf.v, conf.n, sizeof *conf.v, cmp_file);
		struct diffstat dc = {0};
		for (size_t i = 0; i < conf.n; i++)
			diff_one(&c, &conf.v[i], &dc, verbose);
		print_diff("conformance JPEGs", &dc);
	}
	free_files(&fs);
	free_files(&conf);
	free(pixbuf);
	hg_hasher_free(c.hasher);
	hg_decoder_free(c.dec);
	hg_pdq_hasher_free(c.pdq);
	return 0;
}
