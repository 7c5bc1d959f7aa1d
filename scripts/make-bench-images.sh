#!/bin/sh
# Makes the hashing benchmark's photo set (bench/bench_hash.c): baseline and
# progressive JPEG re-encodes, at 1 to 12 megapixels, of the photos Debian's
# mate-backgrounds package ships. Only benign package images are used; the
# output folder is a build artefact, never committed.
#
# Usage: scripts/make-bench-images.sh [OUTDIR]   (default build/bench-images)
# Each source photo gets two sizes (cycling through SIZES so every size is
# covered by several photos), each saved baseline and progressive. Existing
# outputs are kept, so a second run costs nothing.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/bench-images}
src=${HG_BENCH_SRC:-/usr/share/backgrounds/mate}
SIZES="1000000 2000000 4000000 8000000 12000000"
QUALITY=90

command -v convert >/dev/null || { echo "make-bench-images: ImageMagick's convert is missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ -d "$src" ] || { echo "make-bench-images: $src not found (mate-backgrounds; scripts/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$out"

set -- $SIZES
nsizes=$#
i=0
find "$src" -type f -name '*.jpg' | sort | while read -r f; do
	name=$(basename "$f" .jpg)
	for k in 0 1; do
		# the (2i+k)-th size, cycling
		n=$(( (2 * i + k) % nsizes + 1 ))
		px=$(echo $SIZES | cut -d' ' -f$n)
		mp=$(( px / 1000000 ))
		for mode in baseline progressive; do
			dst="$out/${name}-${mp}mp-${mode}.jpg"
			[ -s "$dst" ] && continue
			interlace=None
			[ $mode = progressive ] && interlace=JPEG
			convert "$f" -strip -resize "${px}@" -quality $QUALITY \
				-interlace $interlace "$dst.tmp.jpg"
			mv "$dst.tmp.jpg" "$dst"
		done
	done
	i=$((i + 1))
done
echo "make-bench-images: $(find "$out" -name '*.jpg' | wc -l) images in $out"
