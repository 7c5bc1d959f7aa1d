#!/bin/sh
# The main job on sample data: build hashgate, then hash the photos that
# Debian's mate-backgrounds package ships (installed by scripts/setup.sh).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh build >/dev/null
samples=/usr/share/backgrounds/mate
if [ ! -d "$samples" ]; then
	echo "demo: $samples is missing; run: sudo ./scripts/setup.sh" >&2
	exit 1
fi
echo "== PDQ hash, quality and path of each sample image (-j 2):"
find "$samples" -type f \( -name '*.jpg' -o -name '*.png' \) | sort | head -n 12 |
	xargs ./build/hashgate hash -j 2
