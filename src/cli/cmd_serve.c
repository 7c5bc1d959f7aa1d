/*
 * cmd_serve.c — `hashgate serve`: runs the HTTP upload gate until SIGTERM or
 * SIGINT, then drains in-flight requests and exits 0. Signals are taken by a
 * dedicated thread (sigwait), so no handler runs inside the server's code.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "service/service.h"

static void *signal_thread(void *arg)
{
	hg_server *s = arg;
	sigset_t set;
	int sig = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	hg_server_stop(s);
	return NULL;
}

int hg_cmd_serve(int argc, char **argv)
{
	struct hg_serve_config cfg;
	char err[1024];
	int help = 0;
	if (hg_serve_config_load(&cfg, argc, argv, &help, err, sizeof err) != 0) {
		fprintf(stderr, "hashgate serve: %s\n", err);
		hg_serve_config_usage(stderr);
		return HG_EXIT_USAGE;
	}
	if (help) {
		hg_serve_config_usage(stdout);
		return 0;
	}
	/* Block the signals before any thread starts, so all inherit the mask
	 * and only signal_thread receives them. A peer closing mid-reply must
	 * not kill the process. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	hg_server *s = NULL;
	if (hg_server_new(&cfg, &s, err, sizeof err) != HG_OK) {
		fprintf(stderr, "hashgate serve: %s\n", err);
		return HG_EXIT_ERROR;
	}
	fprintf(stderr, "hashgate serve: listening on %s (port %d), store %s\n", cfg.listen,
		hg_server_port(s), cfg.db);
	pthread_t t;
	if (pthread_create(&t, NULL, signal_thread, s) != 0) {
		fprintf(stderr, "hashgate serve: cannot start the signal thread\n");
		hg_server_free(s);
		return HG_EXIT_ERROR;
	}
	hg_status st = hg_server_run(s);
	pthread_join(t, NULL);
	hg_server_free(s);
	fprintf(stderr, "hashgate serve: stopped\n");
	return st == HG_OK ? HG_EXIT_OK : HG_EXIT_ERROR;
}
