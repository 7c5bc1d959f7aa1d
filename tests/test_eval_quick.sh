#!/bin/bash
# test_eval_quick.sh — runs the evaluation pipeline (eval/run.sh --quick) on
# 10 mate-backgrounds photos with a few edits, then checks what it measured:
# near-lossless edits match, dihedral matching finds a mirrored copy that plain
# PDQ misses, unletterbox finds a letterboxed copy, uncaption a meme-style
# copy and (lifting a see-through bar) more captioned copies, upscale a
# quarter-size copy, a bank with canonical
# regions finds a 10% crop, and no photo matches a different one.
# Skipped (77) without the photos, ImageMagick or python3.
set -u
photos=/usr/share/backgrounds/mate/nature
[ -d "$photos" ] || { echo "skip: no $photos (mate-backgrounds)"; exit 77; }
command -v convert >/dev/null || { echo "skip: no ImageMagick"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
out=${HG_BINARY_DIR:-/tmp}/eval-quick
"$HG_SOURCE_DIR/eval/run.sh" --quick --hashgate "$HASHGATE" --out "$out" \
	--edits jpeg50,flipy,resize25,letterbox,meme,caption_see,crop10 || { echo "FAIL: run.sh failed"; exit 1; }

csv=$out/results.csv
fm=$out/falsematch.csv
[ -s "$csv" ] && [ -s "$fm" ] && [ -s "$out/report.md" ] || { echo "FAIL: no results"; exit 1; }
fails=0
# recall CONFIG EDIT -> the recall column of results.csv
recall() { awk -F, -v c="$1" -v e="$2" '$1 == c && $2 == e { print $6 }' "$csv"; }
expect() { # expect CONFIG EDIT OP VALUE
	local r
	r=$(recall "$1" "$2")
	if [ -z "$r" ] || ! awk -v r="$r" -v v="$4" -v op="$3" \
		'BEGIN { exit !((op == ">=" && r >= v) || (op == "<=" && r <= v)) }'; then
		echo "FAIL: $1 / $2: recall ${r:-missing}, expected $3 $4"
		fails=$((fails + 1))
	fi
}
expect "A0 plain" jpeg50 ">=" 90
expect "A0 plain" flipy "<=" 10
expect "A1 dihedral" flipy ">=" 90
expect "A1 dihedral" letterbox "<=" 10
expect "A2 unletterbox" letterbox ">=" 90
expect "A2 unletterbox" crop10 "<=" 10
expect "A2 unletterbox" meme "<=" 10
expect "A3 uncaption" meme ">=" 90
# measured 50% -> 80% on these 10 photos
expect "A2 unletterbox" caption_see "<=" 60
expect "A3 uncaption" caption_see ">=" 70
expect "A4 upscale" resize25 ">=" 90
expect "B1 center80" crop10 ">=" 90
n=$(awk -F, 'NR > 1 && $3 != 0' "$fm" | wc -l)
[ "$n" -eq 0 ] || { echo "FAIL: $n configurations have false matches"; fails=$((fails + 1)); }
for p in threshold.png hist.png peredit.png; do
	if command -v gnuplot >/dev/null && [ ! -s "$out/$p" ]; then
		echo "FAIL: no $p"
		fails=$((fails + 1))
	fi
done
echo "test_eval_quick: $fails failed"
[ "$fails" -eq 0 ]
