#!/bin/sh
# The main job on sample data: build hashgate, make a demo bank from the
# photos Debian's mate-backgrounds package ships, start the upload gate on
# loopback, check an edited copy of one photo (resized, re-encoded,
# mirrored) and an unrelated photo, print the verdicts, stop the gate and
# verify its audit log. Everything goes to ./demo-out/ (re-created each run).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh build >/dev/null
hg=./build/hashgate
samples=/usr/share/backgrounds/mate
for tool in curl convert; do
	command -v "$tool" >/dev/null || { echo "demo: $tool is missing; run: sudo ./scripts/setup.sh" >&2; exit 1; }
done
[ -d "$samples" ] || { echo "demo: $samples is missing; run: sudo ./scripts/setup.sh" >&2; exit 1; }

out=demo-out
rm -rf "$out"
mkdir -p "$out"
export HASHGATE_DB="$out/demo.db"

# The bank: every sample photo except the one kept back as "unrelated".
find "$samples" -type f -name '*.jpg' | sort > "$out/all.txt"
unrelated=$(grep '/Dune.jpg$' "$out/all.txt" || tail -n 1 "$out/all.txt")
grep -vx "$unrelated" "$out/all.txt" > "$out/bank-photos.txt"
original=$(grep '/Aqua.jpg$' "$out/bank-photos.txt" || head -n 1 "$out/bank-photos.txt")
echo "== hashing $(wc -l < "$out/bank-photos.txt") sample photos for the demo bank (-j 2)"
# shellcheck disable=SC2046
$hg hash -j 2 $(cat "$out/bank-photos.txt") |
	awk -F, '{ n = split($3, p, "/"); print $1 "," p[n] }' > "$out/bank.txt"

curator=$($hg key create --tenant demo --role curator | tail -n 1)
checker=$($hg key create --tenant demo --role checker | tail -n 1)

echo "== starting the gate on 127.0.0.1 (any free port)"
$hg serve --listen 127.0.0.1:0 --quiet 2> "$out/serve.log" &
gate=$!
trap 'kill $gate 2>/dev/null || true' EXIT
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$out/serve.log")
	[ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$out/serve.log" >&2; exit 1; }
url="http://127.0.0.1:$port"
echo "   listening on $url"

curl -sf -H "Authorization: Bearer $curator" -H 'Content-Type: application/json' \
	-d '{"name": "demo", "action": "block", "description": "mate-backgrounds photos"}' \
	"$url/v1/banks" >/dev/null
curl -sf -H "Authorization: Bearer $curator" -H 'Content-Type: text/plain' \
	--data-binary @"$out/bank.txt" "$url/v1/banks/demo/import" > "$out/import.json"
echo "== bank 'demo': $(sed 's/.*"added":\([0-9]*\).*/\1/' "$out/import.json") PDQ hashes imported over HTTP"

convert "$original" -resize 50% -flop -quality 60 "$out/edited.jpg"
cp "$unrelated" "$out/unrelated.jpg"

check() {
	label=$1
	file=$2
	reply=$(curl -s -H "Authorization: Bearer $checker" -F "file=@$file" "$url/v1/check")
	verdict=$(echo "$reply" | sed -n 's/.*"verdict":"\([a-z]*\)".*/\1/p')
	match=$(echo "$reply" | sed -n 's/.*"matches":\[{\([^}]*\)}.*/\1/p')
	printf '   %-58s -> %s\n' "$label" "${verdict:-error: $reply}"
	[ -n "$match" ] && printf '   %-58s    %s\n' "" "$match"
	return 0
}
echo "== checking uploads against the gate"
check "edited copy of $(basename "$original") (half size, mirrored, q60)" "$out/edited.jpg"
check "unrelated photo $(basename "$unrelated") (not in the bank)" "$out/unrelated.jpg"

kill -TERM "$gate"
wait "$gate" || true
trap - EXIT
echo "== gate stopped; audit log:"
$hg audit verify | sed 's/^/   /'
