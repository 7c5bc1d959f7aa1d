/*
 * bench_video.c — vPDQ hashing speed against FFmpeg decoding the same file.
 *
 *   bench_video [--rounds N] [-r SECONDS] FILE...
 *
 * (scripts/make-bench-videos.sh writes 720p and 1080p H.264 clips to
 * build/bench-videos.) Each round times, per file and in a rotated order:
 *   ffmpeg   `ffmpeg -threads 1 -i FILE -f null -`: decode alone, the CPU
 *            time of the child process (wait4 rusage);
 *   hashgate hg_vpdq_hash_file with one decoder thread at -r SECONDS
 *            (default 1): process CPU time;
 *   skip     the same with HG_VPDQ_SKIP_NONREF (non-reference frames that
 *            will not be hashed are not decoded), and whether its output is
 *            identical to the plain run.
 * Figures are medians over rounds; the ratio to ffmpeg is taken within each
 * round so it holds on a busy machine. Real-time factor = media seconds per
 * CPU second, i.e. per core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hashgate/hashgate.h"

#define MAX_ROUNDS 20

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of `ffmpeg -threads 1 -i path -f null -`,
 * or -1 when it cannot run. */
static double ffmpeg_decode(const char *path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("ffmpeg", "ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", path,
		       "-an", "-f", "null", "-", (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double hash_run(hg_video_hasher *vh, const char *path, double sph, unsigned flags,
		       hg_vpdq *out)
{
	hg_vpdq_options o;
	hg_vpdq_options_default(&o);
	o.seconds_per_hash = sph;
	o.flags = flags;
	double t0 = cpu_now();
	if (hg_vpdq_hash_file(vh, path, &o, out)) {
		fprintf(stderr, "%s: %s\n", path, hg_video_hasher_errmsg(vh));
		return -1;
	}
	return cpu_now() - t0;
}

static int same(const hg_vpdq *a, const hg_vpdq *b)
{
	if (a->count != b->count)
		return 0;
	for (size_t i = 0; i < a->count; i++)
		if (a->frames[i].frame_number != b->frames[i].frame_number ||
		    a->frames[i].quality != b->frames[i].quality ||
		    memcmp(&a->frames[i].hash, &b->frames[i].hash, sizeof(hg_pdq)) != 0)
			return 0;
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int rounds = 3;
	double sph = 1.0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			sph = atof(argv[++i]);
		else
			break;
	}
	if (i >= argc || rounds < 1 || rounds > MAX_ROUNDS || sph < 0) {
		fprintf(stderr, "usage: bench_video [--rounds 1..%d] [-r SECONDS] FILE...\n"
				"(scripts/make-bench-videos.sh makes 720p and 1080p clips)\n",
			MAX_ROUNDS);
		return 2;
	}
	hg_video_hasher *vh = NULL;
	if (hg_video_hasher_new(NULL, &vh))
		return 1;
	printf("%-28s %7s %6s | %-16s | %-16s %8s | %-16s %8s %9s\n", "file", "frames", "hashes",
	       "ffmpeg decode", "hashgate", "vs ffm", "hashgate skip", "vs ffm", "identical");
	for (; i < argc; i++) {
		const char *path = argv[i];
		double ff[MAX_ROUNDS], hg[MAX_ROUNDS], sk[MAX_ROUNDS], rh[MAX_ROUNDS], rs[MAX_ROUNDS];
		hg_vpdq plain = {0}, skip = {0};
		int identical = 1, ok = 1;
		for (int r = 0; r < rounds && ok; r++) {
			/* Rotate the order so no mode always runs first. */
			for (int k = 0; k < 3 && ok; k++) {
				switch ((k + r) % 3) {
				case 0:
					ff[r] = ffmpeg_decode(path);
					ok = ff[r] > 0;
					break;
				case 1:
					hg_vpdq_release(&plain);
					hg[r] = hash_run(vh, path, sph, 0, &plain);
					ok = hg[r] > 0;
					break;
				default:
					hg_vpdq_release(&skip);
					sk[r] = hash_run(vh, path, sph, HG_VPDQ_SKIP_NONREF, &skip);
					ok = sk[r] > 0;
					break;
				}
			}
			if (ok) {
				identical &= same(&plain, &skip);
				rh[r] = hg[r] / ff[r];
				rs[r] = sk[r] / ff[r];
			}
		}
		if (!ok) {
			fprintf(stderr, "%s: a run failed (is ffmpeg on PATH?)\n", path);
			hg_vpdq_release(&plain);
			hg_vpdq_release(&skip);
			continue;
		}
		double secs = (double)plain.frames_decoded / plain.fps;
		double mf = median(ff, rounds), mh = median(hg, rounds), ms = median(sk, rounds);
		const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		printf("%-28s %7llu %6zu | %5.2fs %5.1fx RT | %5.2fs %5.1fx RT %+7.1f%% | %5.2fs "
		       "%5.1fx RT %+7.1f%% %9s\n",
		       name, (unsigned long long)plain.frames_decoded, plain.count, mf, secs / mf, mh,
		       secs / mh, (median(rh, rounds) - 1) * 100, ms, secs / ms,
		       (median(rs, rounds) - 1) * 100, identical ? "yes" : "NO");
		hg_vpdq_release(&plain);
		hg_vpdq_release(&skip);
	}
	printf("(CPU seconds, medians of %d rounds; RT = real-time factor per core; vs ffm = "
	       "median per-round cost over ffmpeg -threads 1 -f null)\n",
	       rounds);
	hg_video_hasher_free(vh);
	return 0;
}
