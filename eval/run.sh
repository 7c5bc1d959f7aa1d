#!/bin/bash
# run.sh — measures how well hashgate recognises edited copies of known photos.
#
# Takes a folder of photos, normalises them (PNG, at most 1024 px; 512 px with
# --quick), drops near-identical ones, makes the edited copies (edits.py),
# hashes everything with the hashgate CLI, and writes a Markdown report with
# gnuplot plots and CSV files (analyze.py). See docs/eval.md.
#
# Usage: eval/run.sh [--quick] [--photos DIR] [--out DIR] [--hashgate PATH]
#                    [-j N] [--radius R] [--no-improvements]
#   --photos DIR     default: the corpus of scripts/fetch-eval-corpus.sh
#                    ($HG_EVAL_CORPUS or ~/.cache/hashgate-eval, folder photos/);
#                    with --quick: /usr/share/backgrounds/mate/nature
#   --quick          10 photos at 512 px: checks the pipeline in seconds
#   --out DIR        default: ./eval-report
#   --hashgate PATH  default: build/hashgate beside this script, else on PATH
#   --edits A,B,...  only these edits (names as in eval/edits.py)
#   --no-improvements  plain and dihedral hashes only (no extra views)
# Needs ImageMagick, python3 (standard library) and, for the plots, gnuplot.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quick=0
photos=""
out=./eval-report
hashgate=""
jobs=2
radius=31
improve=1
only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--photos) photos=$2; shift ;;
	--out) out=$2; shift ;;
	--hashgate) hashgate=$2; shift ;;
	-j) jobs=$2; shift ;;
	--radius) radius=$2; shift ;;
	--no-improvements) improve=0 ;;
	--edits) only=(--only "$2"); shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

if [ -z "$hashgate" ]; then
	if [ -x "$here/../build/hashgate" ]; then hashgate=$here/../build/hashgate
	else hashgate=$(command -v hashgate || true); fi
fi
[ -x "$hashgate" ] || { echo "run.sh: no hashgate binary (build it, or pass --hashgate)" >&2; exit 1; }
command -v convert >/dev/null || { echo "run.sh: needs ImageMagick" >&2; exit 1; }
if [ -z "$photos" ]; then
	if [ "$quick" = 1 ]; then photos=/usr/share/backgrounds/mate/nature
	else photos=${HG_EVAL_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/hashgate-eval}/photos; fi
fi
[ -d "$photos" ] || { echo "run.sh: no photo folder $photos (run scripts/fetch-eval-corpus.sh)" >&2; exit 1; }

if [ "$quick" = 1 ]; then max_side=512; limit=10; else max_side=1024; limit=100000; fi
work=$out/work
# Edited copies are kept between runs with the same photos, size and edit
# definitions (edits.py only makes missing ones); anything else starts afresh.
params="$photos $max_side $limit $(cksum <"$here/edits.py")"
if [ "$(cat "$work/params" 2>/dev/null)" != "$params" ]; then rm -rf "$work"; fi
rm -rf "$work/orig" "$work/fallback"
mkdir -p "$work/orig" "$work/edits"
echo "$params" >"$work/params"

# 1. normalise the originals (the bank side hashes these)
find "$photos" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) |
	sort | head -n "$limit" |
	while read -r f; do
		stem=$(basename "$f" | sed 's/\.[^.]*$//; s/[^A-Za-z0-9_-]/_/g')
		printf '%s\0%s\0' "$f" "$work/orig/$stem.png"
	done | xargs -0 -n 2 -P "$jobs" sh -c \
	'convert "$1[0]" +repage -alpha off -colorspace sRGB -depth 8 -resize '"${max_side}x${max_side}"'\> \
	-define png:compression-level=1 "$2"' sh

# 2. drop near-identical photos
hash_flags=(--json --dihedral)
if [ "$improve" = 1 ]; then
	for opt in --unletterbox --uncaption --upscale --dihedral-pixels --regions; do
		if "$hashgate" hash --help | grep -q -- "$opt"; then hash_flags+=("$opt"); fi
	done
fi
"$hashgate" hash --json --dihedral -j "$jobs" "$work/orig/"*.png >"$work/orig.jsonl"
python3 "$here/dedupe.py" "$work/orig.jsonl" "$radius" 2>"$out/dedupe.log" |
	while read -r f; do rm -f "$f"; done
nphotos=$(find "$work/orig" -name '*.png' | wc -l)
echo "run.sh: $nphotos photos; hashing with: ${hash_flags[*]}" >&2

# 3. edited copies
python3 "$here/edits.py" "${only[@]}" --list >"$work/edits.csv"
python3 "$here/edits.py" "${only[@]}" "$work/orig" "$work/edits" -j "$jobs"

# 4. hash everything. Files this hashgate cannot decode (a format not yet
# supported) are decoded by ImageMagick to PNG and hashed as that, and listed.
start=$(date +%s.%N)
{ find "$work/orig" -type f -print0
  cut -d, -f1 "$work/edits.csv" | while read -r e; do
	find "$work/edits/$e" -type f -print0; done; } |
	xargs -0 "$hashgate" hash "${hash_flags[@]}" -j "$jobs" >"$work/hashes.jsonl" \
	2>"$work/hash-errors.log" || true
end=$(date +%s.%N)
: >"$out/fallback.log"
{ grep -o '^hashgate: [^:]*' "$work/hash-errors.log" || true; } | sed 's/^hashgate: //' |
	while read -r f; do
		fb=$work/fallback/$(basename "$(dirname "$f")")_$(basename "$f").png
		mkdir -p "$work/fallback"
		convert "$f[0]" -alpha off "$fb"
		{ "$hashgate" hash "${hash_flags[@]}" "$fb" 2>>"$out/fallback.log" || true; } |
			python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); r["file"] = sys.argv[1]; print(json.dumps(r))' "$f" >>"$work/hashes.jsonl"
		echo "$f" >>"$out/fallback.log"
	done
nfiles=$(wc -l <"$work/hashes.jsonl")
echo "run.sh: hashed $nfiles files in $(awk "BEGIN{printf \"%.1f\", $end - $start}") s" >&2

# 5. analysis, CSV and report
python3 "$here/analyze.py" "$work/hashes.jsonl" "$work/orig" "$work/edits" \
	"$work/edits.csv" "$out" "$radius"
{
	echo
	echo "Hashed with \`hashgate hash ${hash_flags[*]} -j $jobs\` ($("$hashgate" --version 2>/dev/null || echo hashgate))."
	if [ -s "$out/fallback.log" ]; then
		echo "$(wc -l <"$out/fallback.log") files this hashgate could not decode were decoded by"
		echo "ImageMagick to PNG and hashed as that (listed in fallback.log)."
	fi
	if [ -s "$out/dedupe.log" ]; then
		echo "Dropped as near-identical: $(wc -l <"$out/dedupe.log") photos (dedupe.log)."
	fi
} >>"$out/report.md"

# 6. the same numbers from `hashgate match` itself (its default views = A5)
python3 -c 'import json, os, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["quality"] >= 50:
        print(r["pdq"] + "," + os.path.splitext(os.path.basename(r["file"]))[0])' \
	"$work/orig.jsonl" >"$work/list.txt"
# (one output file per batch: parallel writers to one pipe would mix lines)
rm -rf "$work/match" && mkdir -p "$work/match"
cut -d, -f1 "$work/edits.csv" | while read -r e; do
	find "$work/edits/$e" -type f -print0; done |
	xargs -0 -n 64 -P "$jobs" sh -c 'h=$0 l=$1 d=$2; shift 2
		"$h" match --json --list "$l" "$@" >"$(mktemp "$d/match.XXXXXX")"' \
		"$hashgate" "$work/list.txt" "$work/match" \
	2>>"$work/hash-errors.log" || true
cat "$work/match/"* >"$work/match.jsonl"
python3 "$here/check_match.py" "$work/match.jsonl" "$out" "$work/list.txt" >>"$out/report.md" ||
	echo "run.sh: hashgate match disagrees with analyze.py (see report.md)" >&2

# 7. cost of the extra hashes: hashing time of the originals and of two
# edits that have bars, with each flag set (-j 1, best of 2 runs); not in
# --quick mode
timeit() { # timeit FLAGS... -- FILES...
	local flags=() best=""
	while [ "$1" != "--" ]; do flags+=("$1"); shift; done
	shift
	for _ in 1 2; do
		local s e t
		s=$(date +%s.%N)
		"$hashgate" hash "${flags[@]}" -j 1 "$@" >/dev/null 2>&1 || true
		e=$(date +%s.%N)
		t=$(awk "BEGIN{print $e - $s}")
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	awk -v t="$best" -v n="$#" 'BEGIN{printf "%.2f ms", 1000 * t / n}'
}
[ "$quick" = 1 ] || {
	echo
	echo "## Cost of the extra hashes (hashing time per image, one thread)"
	echo
	echo "| flags | originals | letterbox edits | meme edits |"
	echo "|---|---:|---:|---:|"
	for fl in "--dihedral" "--dihedral --unletterbox --uncaption --upscale --dihedral-pixels" \
		"--regions"; do
		# shellcheck disable=SC2086
		row="| \`$fl\` | $(timeit $fl -- "$work/orig/"*.png)"
		for e in letterbox meme; do
			if [ -d "$work/edits/$e" ]; then
				# shellcheck disable=SC2086
				row="$row | $(timeit $fl -- "$work/edits/$e/"*)"
			else row="$row | -"; fi
		done
		echo "$row |"
	done
} >>"$out/report.md"

# 8. plots
if command -v gnuplot >/dev/null; then
	gnuplot -e "dir='$out'; radius=$radius" "$here/plots.gp"
else
	echo "run.sh: gnuplot not found; plots skipped" >&2
fi
echo "run.sh: report in $out/report.md" >&2
