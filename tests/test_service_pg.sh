#!/bin/bash
# test_service_pg.sh — the gate on PostgreSQL (the store engineer's throwaway
# server, tests/pg_harness.sh): two `hashgate serve` replicas share one
# database, take checks and bank changes at the same time, and the audit log
# they both append to verifies as one intact chain; then a record is edited
# and another deleted with psql, and `hashgate audit verify` names each.
set -u
: "${HASHGATE:?}" "${HG_SOURCE_DIR:?}"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }
command -v psql >/dev/null || { echo "SKIP: psql missing"; exit 77; }
out=$("$HG_SOURCE_DIR/tests/pg_harness.sh" start)
rc=$?
[ $rc -eq 0 ] || exit $rc
eval "$out"
T=$(mktemp -d "${TMPDIR:-/tmp}/hg_service_pg.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	"$HG_SOURCE_DIR/tests/pg_harness.sh" stop "$HG_PG_DIR"
	rm -rf "$T"
}
trap cleanup EXIT
export HASHGATE_DB="$HG_PG_URL"
fails=0
checks=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect() { checks=$((checks + 1)); [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
contains() {
	checks=$((checks + 1))
	case "$2" in *"$3"*) ;; *) fail "$1: '$3' not in: $(echo "$2" | head -c 300)" ;; esac
}

ADMIN=$("$HASHGATE" key create --tenant acme --role admin | tail -n 1)
CHECKER=$("$HASHGATE" key create --tenant acme --role checker | tail -n 1)
contains "key on postgres" "$ADMIN" "hgk_"

# start N: a replica in the background; its port goes to $T/port<N>.
start() {
	"$HASHGATE" serve --listen 127.0.0.1:0 --quiet --rate 0 >/dev/null 2>"$T/serve$1.log" &
	PIDS+=($!)
	local port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/serve$1.log")
		[ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$T/serve$1.log"; echo "replica $1 did not start"; exit 1; }
	echo "$port" > "$T/port$1"
}
start 1
start 2
P1=$(cat "$T/port1")
P2=$(cat "$T/port2")
H1="Authorization: Bearer $ADMIN"
PDQ=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$H1" -H 'Content-Type: application/json' \
	-d '{"name":"b1","action":"block"}' "http://127.0.0.1:$P1/v1/banks")
expect "create bank on replica 1" "$code" 201
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$H1" -H 'Content-Type: application/json' \
	-d "{\"signal_type\":\"pdq\",\"value\":\"$PDQ\"}" "http://127.0.0.1:$P1/v1/banks/b1/entries")
expect "add entry on replica 1" "$code" 201
# replica 2 follows the change feed within about a second
verdict=
for _ in $(seq 50); do
	verdict=$(curl -s -H "Authorization: Bearer $CHECKER" "http://127.0.0.1:$P2/v1/check?pdq=$PDQ" |
		sed -n 's/.*"verdict":"\([a-z]*\)".*/\1/p')
	[ "$verdict" = block ] && break
	sleep 0.1
done
expect "replica 2 sees replica 1's entry" "$verdict" block

# both replicas append decisions at once
LOADERS=()
for p in "$P1" "$P2"; do
	for i in $(seq 40); do
		curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $CHECKER" \
			"http://127.0.0.1:$p/v1/check?pdq=$PDQ"
	done > "$T/codes-$p" &
	LOADERS+=($!)
done
wait "${LOADERS[@]}"
for p in "${PIDS[@]}"; do kill -TERM "$p"; done
for p in "${PIDS[@]}"; do wait "$p"; expect "replica exits 0" "$?" 0; done
PIDS=()

out=$("$HASHGATE" audit verify); expect "verify intact" "$?" 0
contains "verify intact" "$out" "intact"
n=$("$HASHGATE" audit show | grep -c $'\tcheck\t')
ok=$(cat "$T"/codes-* | grep -c '^200$')
expect "concurrent checks answered" "$ok" 80
checks=$((checks + 1)); [ "$n" -ge 81 ] || { fail "only $n check records"; cat "$T"/serve*.log "$T"/codes-* | sort | uniq -c; }

orig=$(psql -Atq "$HG_PG_URL" -c "SELECT object FROM hg_audit WHERE seq = 5")
psql -q "$HG_PG_URL" -c "UPDATE hg_audit SET object = 'b2' WHERE seq = 5" >/dev/null
out=$("$HASHGATE" audit verify); expect "verify edited" "$?" 1
contains "names the edited record" "$out" "record 5 was modified"
psql -q "$HG_PG_URL" -c "UPDATE hg_audit SET object = '$orig' WHERE seq = 5" >/dev/null
out=$("$HASHGATE" audit verify); expect "verify restored" "$?" 0
psql -q "$HG_PG_URL" -c "DELETE FROM hg_audit WHERE seq = 30" >/dev/null
out=$("$HASHGATE" audit verify); expect "verify deleted" "$?" 1
contains "names the deleted record" "$out" "record 30 is missing"

echo "test_service_pg: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
