# service_lib.sh — sourced by script tests that drive a real `hashgate serve`
# over loopback with curl: checks that count failures, starting and stopping
# the server on a free port, and requests that leave $code, $body, $hdrs.
# The caller sets $HASHGATE, $T (a scratch folder) and $HASHGATE_DB first.

fails=0
checks=0
PID=
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
# expect WHAT ACTUAL WANTED
expect() {
	checks=$((checks + 1))
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}
# contains WHAT HAYSTACK NEEDLE
contains() {
	checks=$((checks + 1))
	case "$2" in *"$3"*) ;; *) fail "$1: '$3' not in: $(echo "$2" | head -c 600)" ;; esac
}
lacks() {
	checks=$((checks + 1))
	case "$2" in *"$3"*) fail "$1: '$3' unexpectedly in: $(echo "$2" | head -c 600)" ;; esac
}

# start_server [serve flags...]: port 0 = any free port, read back from its
# log; waits until /readyz answers. Sets $PID and $B (the base URL).
start_server() {
	# A restart must not read the port of the server before it (the new
	# process truncates the log only once it runs).
	rm -f "$T/serve.log"
	"$HASHGATE" serve --listen 127.0.0.1:0 --quiet "$@" 2>"$T/serve.log" &
	PID=$!
	local port=
	for _ in $(seq 300); do
		port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/serve.log" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$T/serve.log"; echo "server did not start"; exit 1; }
	B="http://127.0.0.1:$port"
	for _ in $(seq 300); do
		curl -sf "$B/readyz" >/dev/null && return 0
		sleep 0.1
	done
	echo "server not ready: $(curl -s -m 5 "$B/readyz")"
	cat "$T/serve.log"
	exit 1
}

# stop_server: SIGTERM, and the exit status must be 0.
stop_server() {
	kill -TERM "$PID"
	wait "$PID"
	expect "server exit after SIGTERM" "$?" 0
	PID=
}

# req KEY METHOD PATH [curl args...] -> $code, $body, $hdrs
req() {
	local k=$1 m=$2 p=$3
	shift 3
	local auth=()
	[ -n "$k" ] && auth=(-H "Authorization: Bearer $k")
	code=$(curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$B$p")
	body=$(cat "$T/body")
	hdrs=$(cat "$T/hdrs")
}
json() { req "$1" "$2" "$3" -H 'Content-Type: application/json' --data-binary "$4"; }
# upload KEY FILE [content type]: POST /v1/check with the raw bytes
upload() { req "$1" POST /v1/check -H "Content-Type: ${3:-application/octet-stream}" --data-binary @"$2"; }
