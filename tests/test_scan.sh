#!/bin/bash
# `hashgate scan`: a tree with an edited copy of a banked photo, an unrelated
# photo, a non-image and (later) a truncated JPEG; then re-encoded copies of
# a banked video (MKV, animated GIF), an unrelated video and a truncated one.
# Checks the verdicts, the exit codes, that allow-lists win, and that --state
# resumes past finished files without rescanning them.
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
check "summary counts" 'grep -q "1 matched, 1 clean, 1 neither images nor videos, 0 errors" "$t/summary"'

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

# ---- videos: a 5 s pan over a photo (320x180) is banked as a vpdq entry; its
# re-encoded copy and an animated GIF of it are reported, an unrelated pan is
# not, a truncated MP4 is an error naming the file.
if command -v ffmpeg >/dev/null; then
	pan="scale=480:270:force_original_aspect_ratio=increase,crop=320:180:x='(in_w-320)*t/5':y='(in_h-180)*t/5',format=yuv420p"
	x264() { ffmpeg -nostdin -v error -y "$@" -c:v libx264 -preset ultrafast -pix_fmt yuv420p; }
	x264 -loop 1 -i "$src/Garden.jpg" -t 5 -r 10 -vf "$pan" -crf 20 "$t/orig.mp4"
	mkdir -p "$t/vids/a"
	x264 -i "$t/orig.mp4" -vf scale=240:136 -crf 36 -f matroska "$t/vids/a/copy.mkv"
	ffmpeg -nostdin -v error -y -i "$t/orig.mp4" -vf "fps=5,scale=160:-1" "$t/vids/anim.gif"
	x264 -loop 1 -i "$src/Dune.jpg" -t 5 -r 10 -vf "$pan" -crf 20 "$t/vids/unrelated.mp4"
	echo "vpdq:$($hg hash "$t/orig.mp4" | awk -F, '$2 >= 50 {print $3}' | tr '\n' ' '),garden-clip" \
		> "$t/vlist.txt"
	$hg bank create videos --action block >/dev/null
	$hg bank import --strict videos "$t/vlist.txt" >/dev/null
	$hg scan "$t/vids" > "$t/vout" 2> "$t/vsum"
	rc=$?
	check "videos: exit 1" '[ $rc -eq 1 ]'
	check "the re-encoded video is blocked" \
		'grep -q "^block,$t/vids/a/copy.mkv,videos:[0-9]*:vpdq:[0-9.]*:[0-9.]*$" "$t/vout"'
	check "the animated GIF of it is blocked" 'grep -q "^block,$t/vids/anim.gif,videos:" "$t/vout"'
	check "the unrelated video is not reported" '! grep -q unrelated "$t/vout"'
	check "video summary" 'grep -q "2 matched, 1 clean, 0 neither images nor videos, 0 errors" "$t/vsum"'
	$hg scan --json --quiet "$t/vids/a" > "$t/vjson"
	check "video JSON has the shares" 'grep -q "\"signal_type\": *\"vpdq\", *\"query_pct\": *100" "$t/vjson"'
	head -c 20000 "$t/orig.mp4" > "$t/vids/cut.mp4"
	$hg scan --quiet "$t/vids" > /dev/null 2> "$t/verr"
	rc=$?
	check "a truncated video is an error" '[ $rc -eq 2 ] && grep -q "cut.mp4" "$t/verr"'
	$hg scan --quiet --max-duration 2 "$t/vids/a" > /dev/null 2> "$t/verr2"
	rc=$?
	check "a video over --max-duration is an error" '[ $rc -eq 2 ] && grep -q "copy.mkv" "$t/verr2"'
	# as in the gate: a video that cannot be hashed is still decided by a
	# banked digest of the file
	echo "md5:$(md5sum "$t/vids/a/copy.mkv" | cut -d' ' -f1),copy-file" > "$t/dlist.txt"
	$hg bank create files --action review >/dev/null
	$hg bank import --strict files "$t/dlist.txt" >/dev/null
	$hg scan --max-duration 2 "$t/vids/a" > "$t/vout3" 2> "$t/verr3"
	rc=$?
	check "an over-limit video with a banked MD5 is a match, not an error" \
		'[ $rc -eq 1 ] && grep -q "^review,$t/vids/a/copy.mkv,files:" "$t/vout3"'
else
	echo "ffmpeg missing: video part skipped"
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
