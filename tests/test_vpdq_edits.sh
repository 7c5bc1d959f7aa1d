#!/bin/bash
# test_vpdq_edits.sh — edited copies of a video match their original through
# `hashgate vmatch`, unrelated videos do not, and every container hashgate
# claims decodes with the frame count ffprobe reports.
#
# Clips are made here with ffmpeg from benign Debian wallpapers (a slow pan
# across a photo, 6 s of 640x360) and ffmpeg's own test pattern.
set -u
: "${HASHGATE:?}"
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { echo "SKIP: no ffmpeg"; exit 77; }
P=/usr/share/backgrounds/mate/nature
[ -r $P/Garden.jpg ] && [ -r $P/LadyBird.jpg ] || { echo "SKIP: mate-backgrounds missing"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ff() { ffmpeg -nostdin -v error -y "$@" || fail "ffmpeg $*"; }
x264() { ff "$@" -c:v libx264 -preset ultrafast -pix_fmt yuv420p; }

pan="scale=720:405:force_original_aspect_ratio=increase,crop=480:270:x='(in_w-480)*t/5':y='(in_h-270)*t/5',format=yuv420p"
x264 -loop 1 -i $P/Garden.jpg -t 5 -r 15 -vf "$pan" -crf 18 orig.mp4
x264 -loop 1 -i $P/LadyBird.jpg -t 5 -r 15 -vf "$pan" -crf 18 ladybird.mp4
x264 -f lavfi -i testsrc2=size=480x270:rate=15 -t 5 pattern.mp4

# The edits, each made from orig.mp4.
x264 -i orig.mp4 -crf 40 lowrate.mp4                              # bitrate
x264 -i orig.mp4 -vf scale=240:136 small.mp4                      # resolution
x264 -ss 1 -i orig.mp4 -t 3 trimmed.mp4                           # first and last second cut
x264 -i orig.mp4 -vf "drawbox=x=iw-84:y=8:w=76:h=30:color=white@0.8:t=fill" logo.mp4
x264 -i orig.mp4 -vf "scale=480:210,pad=480:270:0:30:black" letterbox.mp4
x264 -i orig.mp4 -vf "scale=360:202,pad=480:270:60:34:black" windowbox.mp4
ff -i orig.mp4 -c:v libvpx-vp9 -b:v 200k -deadline realtime -cpu-used 8 vp9.webm
ff -i orig.mp4 -c:v mpeg4 -q:v 6 mpeg4.avi
x264 -i orig.mp4 -f mpegts ts.ts
ff -i orig.mp4 -vf "fps=10,scale=240:-1" anim.gif
ff -i orig.mp4 -vf "fps=10,scale=240:-1" -c:v libwebp_anim -loop 0 -q:v 60 anim.webp

# Bank: the original and the two unrelated clips, 5 hashes a second.
"$HASHGATE" hash -r 0.2 orig.mp4 ladybird.mp4 pattern.mp4 > bank.vpdq || fail "hash bank"
[ "$(cut -d, -f5 bank.vpdq | sort -u | wc -l)" -eq 3 ] || fail "bank should hold 3 videos"

for q in lowrate.mp4 small.mp4 trimmed.mp4 logo.mp4 letterbox.mp4 windowbox.mp4 vp9.webm \
	mpeg4.avi ts.ts anim.gif anim.webp; do
	out=$("$HASHGATE" vmatch -r 0.2 --list bank.vpdq "$q")
	rc=$?
	echo "$q: ${out:-no match} (exit $rc)"
	[ $rc -eq 1 ] || fail "$q: exit $rc, expected 1 (matched)"
	[ "$(echo "$out" | cut -d, -f2)" = orig.mp4 ] || fail "$q should match orig.mp4 only"
done
for q in ladybird.mp4 pattern.mp4; do
	out=$("$HASHGATE" vmatch -r 0.2 --list bank.vpdq "$q")
	[ "$(echo "$out" | cut -d, -f2)" = "$q" ] || fail "$q should match only itself: $out"
done
# Letterboxed copies match only because their bars are cut off.
[ "$("$HASHGATE" vmatch -r 0.2 --list bank.vpdq letterbox.mp4 | cut -d, -f5)" = bars-cropped ] ||
	fail "letterbox match should say bars-cropped"
"$HASHGATE" vmatch --no-crop-bars -r 0.2 --list bank.vpdq letterbox.mp4
[ $? -eq 0 ] || fail "letterbox matched without cropping the bars"
# A bank without the original: nothing matches an edit.
grep -v ',orig.mp4$' bank.vpdq > others.vpdq
"$HASHGATE" vmatch -r 0.2 --list others.vpdq logo.mp4 small.mp4 letterbox.mp4
[ $? -eq 0 ] || fail "edits matched an unrelated bank"

# A stored bank: vpdq entries from `hash --entry` (each frame with its
# quality, frame number and timestamp) imported as a list.
"$HASHGATE" hash -r 0.2 --entry orig.mp4 ladybird.mp4 > vlist.txt || fail "hash --entry"
grep -q '^vpdq:[0-9a-f]\{64\}:[0-9]*:0:0.000 [0-9a-f]\{64\}:[0-9]*:3:0.200 ' vlist.txt ||
	fail "hash --entry line: $(head -c 200 vlist.txt)"
"$HASHGATE" bank create --db bank.db videos >/dev/null &&
	"$HASHGATE" bank import --db bank.db --strict videos vlist.txt >/dev/null || fail "bank import"
out=$("$HASHGATE" vmatch --db bank.db --bank videos -r 0.2 letterbox.mp4 small.mp4 pattern.mp4)
[ $? -eq 1 ] && [ "$(echo "$out" | cut -d, -f1,2 | tr '\n' ' ')" = \
	"letterbox.mp4,orig.mp4 small.mp4,orig.mp4 " ] || fail "vmatch --bank: $out"
"$HASHGATE" vmatch --db bank.db --bank missing orig.mp4 2>/dev/null
[ $? -eq 2 ] || fail "vmatch --bank of a missing bank should fail"
# Bank-side frames with quality < 50 are left out of the bank video's share:
# orig then 2 s of black (quality 0). Stored with qualities, orig covers all
# of the bank video's usable frames (target% 100); stored as bare hashes
# (entries from before quality was kept), the black frame counts as usable.
ff -i orig.mp4 -f lavfi -i color=black:s=480x270:r=15:d=2 -filter_complex \
	"[0:v][1:v]concat=n=2:v=1[v]" -map "[v]" -c:v libx264 -preset ultrafast -pix_fmt yuv420p dark.mp4
"$HASHGATE" hash -r 0.2 --entry dark.mp4 > dark.txt
grep -q ':0:[0-9]*:[0-9.]* ' dark.txt || fail "dark.mp4 has no quality-0 frame: $(cat dark.txt)"
sed 's/:[0-9]*:[0-9]*:[0-9.]*\([ ,]\)/\1/g' dark.txt > dark-legacy.txt
cut -c6- dark-legacy.txt | grep -q ':' && fail "legacy value still has qualities"
for b in dq dl; do "$HASHGATE" bank create --db bank.db $b >/dev/null; done
"$HASHGATE" bank import --db bank.db --strict dq dark.txt >/dev/null &&
	"$HASHGATE" bank import --db bank.db --strict --signal vpdq dl dark-legacy.txt >/dev/null ||
	fail "import dark"
tq=$("$HASHGATE" vmatch --db bank.db --bank dq -r 0.2 orig.mp4 | cut -d, -f4)
tl=$("$HASHGATE" vmatch --db bank.db --bank dl -r 0.2 orig.mp4 | cut -d, -f4)
echo "orig vs orig+black: target% $tq with qualities stored, $tl with bare hashes"
[ "$tq" = 100.00 ] && [ -n "$tl" ] && [ "$tl" != 100.00 ] || fail "low-quality bank frames: $tq / $tl"
# The same entry lines read as a list by vmatch --list (one video per line).
out=$("$HASHGATE" vmatch -r 0.2 --list vlist.txt letterbox.mp4 small.mp4 pattern.mp4)
[ $? -eq 1 ] && [ "$(echo "$out" | cut -d, -f1,2 | tr '\n' ' ')" = \
	"letterbox.mp4,orig.mp4 small.mp4,orig.mp4 " ] || fail "vmatch --list of --entry lines: $out"
[ "$("$HASHGATE" vmatch -r 0.2 --list dark.txt orig.mp4 | cut -d, -f4)" = 100.00 ] ||
	fail "vmatch --list dark.txt: low-quality frames counted"

# Every frame is counted as ffprobe counts it, in every container.
for f in orig.mp4 vp9.webm mpeg4.avi ts.ts anim.gif; do
	want=$(ffprobe -v error -select_streams v:0 -count_frames \
		-show_entries stream=nb_read_frames -of default=nw=1:nk=1 "$f" | head -n 1)
	got=$("$HASHGATE" hash -r 0 "$f" | wc -l)
	[ "$got" = "$want" ] || fail "$f: $got frames hashed at -r 0, ffprobe counts $want"
done
# Frame numbers step by int(fps * r): at 15 fps and -r 1, 0,15,30,...
[ "$("$HASHGATE" hash orig.mp4 | cut -d, -f1,4 | tr '\n' ' ')" = \
  "0,0.000 15,1.000 30,2.000 45,3.000 60,4.000 " ] || fail "frame numbers at -r 1"

# Mixed inputs: an image and a video in one --json run.
"$HASHGATE" hash --json $P/Garden.jpg orig.mp4 > mixed.json || fail "hash --json mixed"
grep -q '"type":"video"' mixed.json && grep -q '"pdq":' mixed.json &&
	[ "$(wc -l < mixed.json)" -eq 2 ] || fail "mixed --json output: $(cat mixed.json)"

# Broken inputs: a clear error, exit 2, never a crash.
head -c 20000 orig.mp4 > cut.mp4
ffmpeg -nostdin -v error -y -i orig.mp4 -c copy -movflags +faststart faststart.mp4
head -c 30000 faststart.mp4 > cut-faststart.mp4
head -c 3000 orig.mp4 > stub.mp4
printf '\x1a\x45\xdf\xa3garbage-matroska' > junk.mkv
# Cut files of the other containers (docs/video.md, "Cut and damaged files").
half() { head -c $(( $(wc -c < "$1") / 2 + 7 )) "$1" > "$2"; }
half vp9.webm cut.webm
half mpeg4.avi cut.avi
half anim.gif cut.gif
half anim.webp cut.webp
head -c $(( $(wc -c < ts.ts) / 2 / 188 * 188 + 100 )) ts.ts > cut.ts
for f in cut.webm cut.avi cut.gif cut.webp cut.ts; do
	err=$("$HASHGATE" hash "$f" 2>&1 >/dev/null)
	rc=$?
	echo "$f: $err (exit $rc)"
	[ $rc -eq 2 ] && echo "$err" | grep -q "truncated\|cut" || fail "$f: exit $rc, message '$err'"
done
# MPEG-TS has no declared length: cut at a packet boundary it hashes as
# the recording it is, identical to the start of the whole stream.
head -c $(( $(wc -c < ts.ts) / 2 / 188 * 188 )) ts.ts > stopped.ts
"$HASHGATE" hash -r 0 ts.ts > ts.full && "$HASHGATE" hash -r 0 stopped.ts > ts.stopped ||
	fail "hash of a TS stopped at a packet boundary"
n=$(wc -l < ts.stopped)
[ "$n" -gt 10 ] && [ "$n" -lt "$(wc -l < ts.full)" ] && head -n "$n" ts.full | cmp -s - ts.stopped ||
	fail "stopped TS ($n frames) is not a prefix of the whole stream"
for f in cut.mp4 cut-faststart.mp4 stub.mp4 junk.mkv; do
	err=$("$HASHGATE" hash "$f" 2>&1 >/dev/null)
	rc=$?
	echo "$f: $err (exit $rc)"
	[ $rc -eq 2 ] && [ -n "$err" ] || fail "$f: exit $rc, message '$err'"
done
err=$("$HASHGATE" hash --max-frames 10 orig.mp4 2>&1 >/dev/null)
[ $? -eq 2 ] && echo "$err" | grep -q "frames" || fail "--max-frames: $err"
err=$("$HASHGATE" hash --max-duration 2 orig.mp4 2>&1 >/dev/null)
[ $? -eq 2 ] && echo "$err" | grep -q "lasts" || fail "--max-duration: $err"
err=$("$HASHGATE" hash --max-side 240 orig.mp4 2>&1 >/dev/null)
[ $? -eq 2 ] && echo "$err" | grep -q "over the limit" || fail "--max-side: $err"

echo "$fails failed"
[ $fails -eq 0 ]
