#!/bin/bash
# test_cli_hash.sh — `hashgate hash` as a user meets it: output lines, exit
# codes and stderr for a mix of good and bad files, stdin, --all digests
# against coreutils (images and videos), --json, --dihedral, --compat cli, limits and -j ordering.
# Pictures are drawn by ImageMagick here; bad files are made by cutting and
# writing bytes.
set -u
: "${HASHGATE:?run from ctest}"
command -v convert >/dev/null || { echo "SKIP: ImageMagick not installed"; exit 77; }

fails=0 checks=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect() { # expect DESCRIPTION ACTUAL WANTED
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
contains() { # contains DESCRIPTION TEXT NEEDLE
	case "$2" in *"$3"*) ok ;; *) bad "$1: '$2' lacks '$3'" ;; esac
}

# good pictures in several formats, and a rotated copy
convert -seed 3 -size 160x120 plasma:green-purple good.png
convert good.png -quality 90 good.jpg
convert good.png good.gif
convert good.png -quality 90 good.webp
convert good.png good.bmp
convert good.png -compress lzw good.tif
convert good.png -rotate 90 rot.png
convert -seed 5 -size 1200x900 plasma: big.jpg # slower to hash than the small ones
# bad files
: >empty.jpg
echo "this is a text file, not a picture" >notes.txt
head -c 600 good.jpg >cut.jpg
convert -size 4x4 xc:red tiny.png

# 1. a mix: good files print in order, bad ones go to stderr, exit 2
"$HASHGATE" hash good.jpg empty.jpg notes.txt cut.jpg tiny.png good.png >out 2>err
expect "mix exit" $? 2
expect "mix stdout lines" "$(wc -l <out)" 2
expect "mix stdout order" "$(cut -d, -f3 out | tr '\n' ' ')" "good.jpg good.png "
expect "mix stderr lines" "$(wc -l <err)" 4
contains "empty" "$(grep '^hashgate: empty.jpg: ' err)" "empty"
contains "non-image" "$(grep '^hashgate: notes.txt: ' err)" "not a recognised image"
contains "truncated" "$(grep '^hashgate: cut.jpg: ' err)" "truncated"
contains "tiny" "$(grep '^hashgate: tiny.png: ' err)" "5x5"
expect "distinct messages" "$(cut -d: -f3- err | sort -u | wc -l)" 4
grep -q '^0\{64\}' out && bad "an all-zero hash was printed"

# 2. every format hashes; all good gives exit 0 and the reference line format
"$HASHGATE" hash good.png good.jpg good.gif good.webp good.bmp good.tif >out 2>err
expect "formats exit" $? 0
expect "formats stderr" "$(cat err)" ""
expect "formats lines" "$(grep -cE '^[0-9a-f]{64},[0-9]{1,3},good\.[a-z]+$' out)" 6
png_hash=$(sed -n 1p out | cut -d, -f1)
# lossless formats decode to the same pixels, so to the same hash
expect "png=bmp" "$(grep ',good.bmp$' out | cut -d, -f1)" "$png_hash"
expect "png=tif" "$(grep ',good.tif$' out | cut -d, -f1)" "$png_hash"

# 3. stdin
line=$("$HASHGATE" hash - <good.png)
expect "stdin exit" $? 0
expect "stdin line" "$line" "$(sed -n 1p out | cut -d, -f1-2),-"

# 4. --all digests = coreutils'
line=$("$HASHGATE" hash --all good.jpg)
expect "md5" "$(echo "$line" | sed 's/.*md5=\([0-9a-f]*\).*/\1/')" "$(md5sum <good.jpg | cut -d' ' -f1)"
expect "sha1" "$(echo "$line" | sed 's/.*sha1=\([0-9a-f]*\).*/\1/')" "$(sha1sum <good.jpg | cut -d' ' -f1)"
expect "sha256" "$(echo "$line" | sed 's/.*sha256=\([0-9a-f]*\).*/\1/')" "$(sha256sum <good.jpg | cut -d' ' -f1)"
expect "--all prefix" "$(echo "$line" | cut -d, -f1-3)" "$(grep ',good.jpg$' out)"

# 5. --json: one object per line with the same hash
"$HASHGATE" hash --json --all good.png notes.txt >out.json 2>err
expect "json exit" $? 2
expect "json lines" "$(wc -l <out.json)" 1
contains "json pdq" "$(cat out.json)" "\"pdq\":\"$png_hash\""
contains "json file" "$(cat out.json)" "\"file\":\"good.png\""
contains "json size" "$(cat out.json)" "\"width\":160,\"height\":120"
contains "json sha256" "$(cat out.json)" "\"sha256\":\"$(sha256sum <good.png | cut -d' ' -f1)\""
case "$(cat out.json)" in "{"*"}") ok ;; *) bad "json is not one object" ;; esac

# 5b. --all on videos (the seed clips of fuzz/corpus/video): a "# md5=,sha1=,
# sha256=,PATH" line with coreutils' digests of the whole file, then the same
# frame lines as without --all; the output stays a list vmatch reads.
V=$HG_SOURCE_DIR/fuzz/corpus/video
for f in seed-h264.mp4 seed-h264.ts seed-vp9.mkv seed-anim.gif seed-anim.webp; do
	cp "$V/$f" "$f"
	"$HASHGATE" hash --all "$f" >out 2>err
	expect "video --all exit $f" $? 0
	expect "video digests $f" "$(sed -n 1p out)" \
		"# md5=$(md5sum <"$f" | cut -d' ' -f1),sha1=$(sha1sum <"$f" | cut -d' ' -f1),sha256=$(sha256sum <"$f" | cut -d' ' -f1),$f"
	expect "video frames $f" "$(sed 1d out)" "$("$HASHGATE" hash "$f")"
	"$HASHGATE" hash --json --all "$f" >out.json
	contains "video json md5 $f" "$(cat out.json)" "\"md5\":\"$(md5sum <"$f" | cut -d' ' -f1)\""
	contains "video json sha256 $f" "$(cat out.json)" "\"sha256\":\"$(sha256sum <"$f" | cut -d' ' -f1)\""
	contains "video json type $f" "$(cat out.json)" '"type":"video"'
done
"$HASHGATE" hash --all -j 2 seed-h264.mp4 good.jpg seed-vp9.mkv >out
expect "mixed --all lines" "$(grep -c '^# md5=' out) $(grep -c ',good.jpg,md5=' out)" "2 1"
expect "mixed --all order" "$(cut -c1-5 out | tr '\n' ' ')" "# md5 0,100 $(cut -c1-5 out | sed -n 3p) # md5 0,100 "
grep -v ',good.jpg,' out >list.vpdq
"$HASHGATE" vmatch --list list.vpdq seed-vp9.mkv >out
expect "vmatch reads a --all list" $? 1
head -c 3000 seed-h264.ts >cut.ts
"$HASHGATE" hash --all cut.ts >out 2>err
expect "cut video --all exit" $? 2
expect "cut video --all prints nothing" "$(cat out)" ""

# 6. --dihedral: 8 hashes, quality, path; orig = the plain hash; the file
# turned 90 degrees clockwise hashes near the rot270 variant
line=$("$HASHGATE" hash --dihedral good.png)
expect "dihedral fields" "$(echo "$line" | awk -F, '{print NF}')" 10
expect "dihedral orig" "$(echo "$line" | cut -d, -f1)" "$png_hash"
expect "dihedral path" "$(echo "$line" | cut -d, -f10)" "good.png"
rot=$("$HASHGATE" hash rot.png | cut -d, -f1)
want=$(echo "$line" | cut -d, -f4)
dist=0
for i in $(seq 0 4 60); do
	x=$(( 0x${rot:$i:4} ^ 0x${want:$i:4} ))
	while [ $x -gt 0 ]; do dist=$((dist + (x & 1))); x=$((x >> 1)); done
done
if [ $dist -le 16 ]; then ok; else bad "rotated file is $dist bits from rot270"; fi
line=$("$HASHGATE" hash --dihedral --compat cli big.jpg)
expect "dihedral cli fields" "$(echo "$line" | awk -F, '{print NF}')" 10

# 7. limits: over the limit is refused with a message
"$HASHGATE" hash --max-pixels 1000 good.png >out 2>err
expect "max-pixels exit" $? 2
contains "max-pixels message" "$(cat err)" "limit"
"$HASHGATE" hash --max-bytes 100 good.png >out 2>err
expect "max-bytes exit" $? 2
contains "max-bytes message" "$(cat err)" "limit"

# 8. -j 2 keeps the input order (big files finish later than small ones)
files=""
for k in 1 2 3 4; do files="$files big.jpg good.png notes.txt good.gif"; done
"$HASHGATE" hash $files >j1.out 2>j1.err
rc1=$?
"$HASHGATE" hash -j 2 $files >j2.out 2>j2.err
rc2=$?
expect "-j exit" "$rc2" "$rc1"
expect "-j stdout" "$(cat j2.out)" "$(cat j1.out)"
expect "-j stderr" "$(cat j2.err)" "$(cat j1.err)"
expect "-j lines" "$(wc -l <j2.out)" 12

# 9. usage errors
"$HASHGATE" hash >/dev/null 2>&1
expect "no files exit" $? 2
"$HASHGATE" hash --bogus good.png >/dev/null 2>&1
expect "unknown option exit" $? 2

echo "test_cli_hash: $checks checks, $fails failed"
[ $fails -eq 0 ]
