#!/bin/bash
# `hashgate scan`: a tree with an edited copy of a banked photo, an unrelated
# photo, a non-image and (later) a truncated JPEG. Checks the verdicts, the
# exit codes, that allow-lists win, and that --state resumes past finished
# files without rescanning them.
set -u
hg=${HASHGATE:?}
src=/usr/share/backgrounds/mate/nature
[ -d "$src" ] || { echo "SKIP: $src missing (mate-backgrounds)"; exit 77; }
command -v convert >/dev/null || { echo "SKIP: ImageMagick missing"; exit 77; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export HASHGATE_DB="$t/scan.db"
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

$hg bank create known --action block >/dev/null
$hg bank add --bank known "$src/Aqua.jpg" "$src/Storm.jpg" >/dev/null
mkdir -p "$t/tree/sub"
convert "$src/Aqua.jpg" -resize 40% -flop -quality 55 "$t/tree/sub/copy-of-aqua.jpg"
convert "$src/Dune.jpg" -resize 30% "$t/tree/unrelated.png"
echo "not an image" > "$t/tree/notes.txt"

$hg scan --quiet "$t/tree" > "$t/out" 2> "$t/err"
rc=$?
check "exit 1 when something matched" '[ $rc -eq 1 ]'
check "the edited copy is blocked" 'grep -q "^block,$t/tree/sub/copy-of-aqua.jpg,known:" "$t/out"'
check "found as the mirrored variant" 'grep -q ":pdq:[0-9]*:flipy" "$t/out"'
check "the unrelated photo is not reported" '! grep -q unrelated "$t/out"'
check "the text file is not an error" '[ ! -s "$t/err" ]'

$hg scan --json "$t/tree" > "$t/json" 2> "$t/summary"
check "JSON verdict" 'grep -q "\"verdict\": *\"block\"" "$t/json"'
check "summary counts" 'grep -q "1 matched, 1 clean, 1 not images, 0 errors" "$t/summary"'

$hg bank create fp --action allow >/dev/null
$hg bank add --bank fp "$src/Aqua.jpg" >/dev/null
$hg scan --quiet "$t/tree" > "$t/out2"
check "an allow-list entry beats the block" 'grep -q "^allow,.*copy-of-aqua" "$t/out2"'

head -c 3000 "$src/Storm.jpg" > "$t/tree/truncated.jpg"
$hg scan --quiet "$t/tree" > /dev/null 2> "$t/err3"
rc=$?
check "exit 2 when a file fails" '[ $rc -eq 2 ]'
check "the failure names the file" 'grep -q "truncated.jpg" "$t/err3"'

rm "$t/tree/truncated.jpg"
$hg scan --state "$t/state" "$t/tree" > /dev/null 2> "$t/s1"
check "first run scans all 3" 'grep -q "scanned 3 files (0 resumed past)" "$t/s1"'
check "checkpoint written" 'grep -q "unrelated.png" "$t/state"'
$hg scan --state "$t/state" "$t/tree" > "$t/o2" 2> "$t/s2"
check "second run resumes past all" 'grep -q "scanned 0 files (3 resumed past)" "$t/s2"'
echo "garbage" > "$t/bad-state"
$hg scan --state "$t/bad-state" "$t/tree" > /dev/null 2>&1
check "a foreign state file is refused" '[ $? -eq 2 ]'
$hg scan --quiet "$t/does-not-exist" > /dev/null 2>&1
check "a missing folder is an error" '[ $? -eq 2 ]'

echo "$fails failed"
[ "$fails" -eq 0 ]
