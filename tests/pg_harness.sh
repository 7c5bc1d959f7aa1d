#!/bin/sh
# pg_harness.sh — starts and stops a throwaway PostgreSQL server for tests.
#
#   eval "$(tests/pg_harness.sh start)"   # sets HG_PG_URL and HG_PG_DIR
#   ...                                    # use $HG_PG_URL (postgres://...)
#   tests/pg_harness.sh stop "$HG_PG_DIR"
#
# The server runs as the `postgres` user that Debian's package creates
# (PostgreSQL refuses to run as root), in a fresh temporary directory, on a
# free loopback port, with durability turned off (fsync=off): it is for
# tests, never for data. `start` exits 77 (ctest's "skipped") only when the
# server binaries are absent, and says so; any other failure is exit 1 with
# the server's log, so a broken environment fails loudly.
set -eu

find_bin() {
	for d in ${HG_PG_BINDIR:-} /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# Runs a server binary as the postgres user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start() {
	if ! bin=$(find_bin); then
		echo "pg_harness: SKIP: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
		exit 77
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/hg_pg.XXXXXX")
	chmod 755 "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
	fi
	if ! as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync \
		>"$dir/initdb.log" 2>&1; then
		echo "pg_harness: initdb failed:" >&2
		cat "$dir/initdb.log" >&2
		exit 1
	fi
	tries=0
	while :; do
		port=$(( 20000 + ($$ * 7 + tries * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 40000 ))
		if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir \
			-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
			-c max_connections=200" start >"$dir/pg_ctl.log" 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 5 ]; then
			echo "pg_harness: the server did not start (5 ports tried); its log:" >&2
			cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null || true
			as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
			rm -rf "$dir"
			exit 1
		fi
	done
	if ! as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres hashgate \
		>"$dir/createdb.log" 2>&1; then
		echo "pg_harness: createdb failed:" >&2
		cat "$dir/createdb.log" >&2
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$dir"
		exit 1
	fi
	echo "HG_PG_URL='postgres://postgres@127.0.0.1:$port/hashgate'; export HG_PG_URL;"
	echo "HG_PG_DIR='$dir'; export HG_PG_DIR;"
}

stop() {
	dir=${1:?usage: pg_harness.sh stop DIR}
	[ -d "$dir/data" ] || { rm -rf "$dir"; return 0; }
	bin=$(find_bin) || { rm -rf "$dir"; return 0; }
	as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 ||
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*) echo "usage: pg_harness.sh start | stop DIR" >&2; exit 2 ;;
esac
