#!/bin/bash
# bench_service_video.sh — what a video check costs in the running gate.
#
#   1. a 10 s 854x480 30 fps H.264 clip (a pan over a mate-backgrounds photo
#      with film grain, ~2 Mbit/s, x264 veryfast) checked with POST /v1/check
#      on a gate with one hashing worker, next to `hashgate hash` (one hash a
#      second, the same frames) and `ffmpeg -threads 1 -f null` decoding the
#      same file, alternating in the same run: median wall times and ratios
#   2. the matching alone: POST /v1/check/vpdq with the clip's vPDQ lines,
#      against a bank of 1 video, then of VIDEOS random 30-frame videos more
#      (default 10,000): fastest and median latency of each over 25 requests
#      (flat = the index works; on a loaded machine the fastest is the cost,
#      the median mostly waiting for a core)
#
# Usage: bench/bench_service_video.sh [BUILD_DIR]  (env: ROUNDS, VIDEOS).
# Takes about a minute. The machine is shared: read the ratios, and the load
# printed with them.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
hg=$PWD/$build/hashgate
rounds=${ROUNDS:-9}
videos=${VIDEOS:-10000}
photo=/usr/share/backgrounds/mate/nature/Garden.jpg
for tool in ffmpeg curl python3; do
	command -v "$tool" >/dev/null || { echo "bench_service_video: $tool missing" >&2; exit 1; }
done
[ -r "$photo" ] || { echo "bench_service_video: $photo missing (mate-backgrounds)" >&2; exit 1; }
[ -x "$hg" ] || { echo "bench_service_video: build first: ./scripts/build.sh $build" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/hg_bench_video.XXXXXX")
gate=
trap '[ -n "$gate" ] && kill "$gate" 2>/dev/null; rm -rf "$T"' EXIT
export HASHGATE_DB="$T/bench.db"
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

pan="scale=1280:720:force_original_aspect_ratio=increase,crop=854:480:x='(in_w-854)*t/10':y='(in_h-480)*t/10',noise=alls=12:allf=t,format=yuv420p"
ffmpeg -nostdin -v error -y -loop 1 -i "$photo" -t 10 -r 30 -vf "$pan" -c:v libx264 \
	-preset veryfast -b:v 2M "$T/clip.mp4"
"$hg" hash "$T/clip.mp4" > "$T/clip.vpdq"
echo "vpdq:$(awk -F, '$2 >= 50 {print $3}' "$T/clip.vpdq" | tr '\n' ' '),clip" > "$T/bank.txt"
echo "== clip: $(stat -c %s "$T/clip.mp4") bytes, $(wc -l < "$T/clip.vpdq") frame hashes"

"$hg" bank create --tenant bench known --action block >/dev/null
"$hg" bank import --tenant bench --strict known "$T/bank.txt" >/dev/null
key=$("$hg" key create --tenant bench --role checker --rate 0 | tail -n 1)
"$hg" serve --listen 127.0.0.1:0 --quiet --workers 1 --rate 0 --max-body 67108864 \
	2> "$T/serve.log" &
gate=$!
for _ in $(seq 300); do
	port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$T/serve.log")
	[ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
	sleep 0.1
done
B="http://127.0.0.1:$port"
check() { curl -s -o "$T/resp" -w '%{time_total}\n' -H "Authorization: Bearer $key" "$@"; }

echo "== 1. upload check vs hashgate hash vs ffmpeg decode ($rounds rounds, load: $(cut -d' ' -f1-3 /proc/loadavg))"
: > "$T/gate"; : > "$T/cli"; : > "$T/ffmpeg"
for _ in $(seq "$rounds"); do
	check -H 'Content-Type: video/mp4' --data-binary @"$T/clip.mp4" "$B/v1/check" >> "$T/gate"
	grep -q '"verdict":"block"' "$T/resp" || { echo "the clip was not blocked: $(cat "$T/resp")"; exit 1; }
	t0=$(now); "$hg" hash "$T/clip.mp4" > /dev/null; t1=$(now)
	ffmpeg -nostdin -v error -threads 1 -i "$T/clip.mp4" -f null -; t2=$(now)
	echo "$t1 - $t0" | bc >> "$T/cli"
	echo "$t2 - $t1" | bc >> "$T/ffmpeg"
done
g=$(median < "$T/gate"); c=$(median < "$T/cli"); f=$(median < "$T/ffmpeg")
printf 'gate POST /v1/check   %6.3f s\nhashgate hash         %6.3f s   gate/cli    %.2f\n' "$g" "$c" \
	"$(echo "$g / $c" | bc -l)"
printf 'ffmpeg -threads 1     %6.3f s   gate/ffmpeg %.2f\n' "$f" "$(echo "$g / $f" | bc -l)"

match_times() {
	: > "$T/m"
	for _ in $(seq 25); do
		check -H 'Content-Type: text/plain' --data-binary @"$T/clip.vpdq" "$B/v1/check/vpdq" >> "$T/m"
	done
	printf '%6.2f ms fastest, %6.2f ms median' "$(sort -g "$T/m" | head -n 1 | awk '{print $1 * 1000}')" \
		"$(median < "$T/m" | awk '{print $1 * 1000}')"
}
echo "== 2. matching alone (POST /v1/check/vpdq), load: $(cut -d' ' -f1-3 /proc/loadavg)"
m1=$(match_times)
python3 - "$videos" > "$T/random.txt" <<'EOF'
import random, sys
random.seed(5)
for i in range(int(sys.argv[1])):
    print('vpdq:' + ' '.join('%064x' % random.getrandbits(256) for _ in range(30)) + ',r%d' % i)
EOF
"$hg" bank import --tenant bench --strict known "$T/random.txt" >/dev/null
for _ in $(seq 50); do
	curl -s "$B/readyz" | grep -q "\"index_entries\":$((videos + 1))" && break
	sleep 0.2
done
m2=$(match_times)
grep -q '"verdict":"block"' "$T/resp" || { echo "not blocked among $videos videos"; exit 1; }
printf 'bank of 1 video       %s\nbank of %d videos %s\n' "$m1" "$((videos + 1))" "$m2"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
