#!/bin/sh
# Builds the evaluation corpus: benign photographs shipped in Debian packages.
#
# The .deb files are fetched with `apt-get download` (no installation, no root
# needed) and unpacked with `dpkg-deb -x` into a cache; the photos listed
# below are normalised to 8-bit sRGB PNG, at most 1024 px on the long side,
# and written to $OUT/photos/NNN_<package>_<name>.png with a MANIFEST.tsv that
# records package, version, source path and licence. Near-identical photos
# (the same picture shipped twice) are removed by eval/run.sh, not here.
#
# Usage: scripts/fetch-eval-corpus.sh [OUT]
#   OUT defaults to $HG_EVAL_CORPUS, else ${XDG_CACHE_HOME:-~/.cache}/hashgate-eval
# The images are never committed to the repository; see docs/eval.md.
set -eu

OUT=${1:-${HG_EVAL_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/hashgate-eval}}
MAX_SIDE=1024
mkdir -p "$OUT/debs" "$OUT/x" "$OUT/photos"

# package|licence (from the package's debian/copyright)|paths under its root
LIST='
mate-backgrounds|GPL-2+|usr/share/backgrounds/mate/nature/*.jpg
lomiri-wallpapers-16.04|CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0 (per file, see debian/copyright)|usr/share/backgrounds/[A-Za-tv-z]*_by_*.jpg
lomiri-wallpapers-20.04|CC-BY-SA-3.0|usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg
palapeli-data|GPL-2+|usr/share/palapeli/collection/*.jpg
plasma-workspace-wallpapers|GPL-2+|usr/share/wallpapers/Autumn/contents/images/2560x1600.jpg usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg usr/share/wallpapers/Path/contents/images/2560x1600.jpg usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg usr/share/wallpapers/Grey/contents/images/2560x1600.jpg usr/share/wallpapers/Kite/contents/images/2560x1600.jpg usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg
opencv-doc|Apache-2.0 AND BSD-3-Clause|usr/share/doc/opencv-doc/examples/data/aero1.jpg usr/share/doc/opencv-doc/examples/data/aloeL.jpg usr/share/doc/opencv-doc/examples/data/apple.jpg usr/share/doc/opencv-doc/examples/data/baboon.jpg usr/share/doc/opencv-doc/examples/data/building.jpg usr/share/doc/opencv-doc/examples/data/butterfly.jpg usr/share/doc/opencv-doc/examples/data/fruits.jpg usr/share/doc/opencv-doc/examples/data/home.jpg usr/share/doc/opencv-doc/examples/data/leuvenA.jpg usr/share/doc/opencv-doc/examples/data/messi5.jpg usr/share/doc/opencv-doc/examples/data/orange.jpg usr/share/doc/opencv-doc/examples/data/squirrel_cls.jpg usr/share/doc/opencv-doc/examples/data/stuff.jpg usr/share/doc/opencv-doc/examples/data/left01.jpg usr/share/doc/opencv-doc/examples/data/graf1.png usr/share/doc/opencv-doc/examples/data/basketball1.png usr/share/doc/opencv-doc/examples/data/rubberwhale1.png usr/share/doc/opencv-doc/examples/data/board.jpg usr/share/doc/opencv-doc/examples/data/ela_original.jpg usr/share/doc/opencv-doc/examples/data/box_in_scene.png usr/share/doc/opencv-doc/examples/data/smarties.png usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg usr/share/doc/opencv-doc/examples/hfs/data/*.jpg usr/share/doc/opencv-doc/examples/alphamat/input_images/plant.jpg usr/share/doc/opencv-doc/examples/text/scenetext0?.jpg
python3-skimage|BSD-3-Clause (skimage/data: see the package README for each image)|usr/lib/python3/dist-packages/skimage/data/coffee.png usr/lib/python3/dist-packages/skimage/data/camera.png usr/lib/python3/dist-packages/skimage/data/astronaut.png usr/lib/python3/dist-packages/skimage/data/chelsea.png usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png usr/lib/python3/dist-packages/skimage/data/hubble_deep_field.jpg usr/lib/python3/dist-packages/skimage/data/retina.jpg usr/lib/python3/dist-packages/skimage/data/rocket.jpg usr/lib/python3/dist-packages/skimage/data/coins.png usr/lib/python3/dist-packages/skimage/data/moon.png usr/lib/python3/dist-packages/skimage/data/gravel.png usr/lib/python3/dist-packages/skimage/data/brick.png usr/lib/python3/dist-packages/skimage/data/grass.png usr/lib/python3/dist-packages/skimage/data/ihc.png
tuxpaint-data|GPL-2+|usr/share/tuxpaint/templates/*.jpg
libjxl-testdata|BSD-3-Clause (libjxl); wesaturate photos CC0 (see debian/copyright)|usr/share/libjxl-testdata/jxl/flower/flower.png usr/share/libjxl-testdata/jxl/hdr_room.png usr/share/libjxl-testdata/external/wesaturate/500px/*_srgb8.png
'

command -v convert >/dev/null || { echo "fetch-eval-corpus: needs ImageMagick (convert)" >&2; exit 1; }
rm -f "$OUT/photos/"*.png
manifest="$OUT/photos/MANIFEST.tsv"
printf 'file\tpackage\tversion\tsource\tlicence\n' >"$manifest"
n=0
echo "$LIST" | while IFS='|' read -r pkg licence paths; do
	[ -n "$pkg" ] || continue
	if ! ls "$OUT/debs/${pkg}_"*.deb >/dev/null 2>&1; then
		(cd "$OUT/debs" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ echo "fetch-eval-corpus: apt-get download $pkg failed (run apt-get update?)" >&2; exit 1; }
	fi
	deb=$(ls "$OUT/debs/${pkg}_"*.deb | head -n 1)
	version=$(dpkg-deb -f "$deb" Version)
	[ -d "$OUT/x/$pkg" ] || { mkdir -p "$OUT/x/$pkg" && dpkg-deb -x "$deb" "$OUT/x/$pkg"; }
	for pat in $paths; do
		for src in "$OUT/x/$pkg/"$pat; do
			[ -f "$src" ] || { echo "fetch-eval-corpus: $pkg: no $pat" >&2; continue; }
			n=$((n + 1))
			base=$(basename "$src" | sed 's/\.[^.]*$//; s/[^A-Za-z0-9_-]/_/g')
			# Plasma names its images by resolution: use the wallpaper's name.
			case "$src" in */contents/images/*)
				base=$(echo "$src" | sed 's|.*/wallpapers/\([^/]*\)/.*|\1|') ;;
			esac
			name=$(printf '%03d_%s_%s.png' "$n" "$pkg" "$base")
			convert "$src[0]" +repage -alpha off -colorspace sRGB -depth 8 \
				-resize "${MAX_SIDE}x${MAX_SIDE}>" "$OUT/photos/$name"
			printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$pkg" "$version" \
				"${src#"$OUT/x/$pkg/"}" "$licence" >>"$manifest"
		done
	done
done
echo "fetch-eval-corpus: $(ls "$OUT/photos/"*.png | wc -l) photos in $OUT/photos"
