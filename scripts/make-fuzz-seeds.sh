#!/bin/sh
# Regenerates the fuzz seed corpora in fuzz/corpus/<target>/ from pictures
# ImageMagick draws itself (plasma/gradients with a fixed seed): small files in
# every variant each decoder handles, nothing copied from anywhere. Crash
# reproducers found later live next to them as crash-* and are kept.
# Usage: scripts/make-fuzz-seeds.sh   (needs ImageMagick with HEIC/AVIF/WebP)
set -eu
cd "$(dirname "$0")/.."
out=fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Three small source pictures: colour, grey, and one with transparency.
convert -seed 7 -size 48x40 plasma:red-blue "$tmp/rgb.png"
convert -size 40x48 gradient:black-white -swirl 90 "$tmp/grey.png"
convert "$tmp/rgb.png" -alpha set -channel A -fx 'i/w' "$tmp/rgba.png"
rgb=$tmp/rgb.png grey=$tmp/grey.png rgba=$tmp/rgba.png

# conv TARGET NAME [convert args...]: last arg is the output format prefix
conv() {
	target=$1 name=$2
	shift 2
	mkdir -p "$out/$target"
	convert "$@" "$out/$target/$name"
}

for t in jpeg png gif webp bmp tiff heif hex; do
	find "$out/$t" -name 'seed-*' -delete 2>/dev/null || true
done

conv jpeg seed-baseline.jpg "$rgb" -quality 85
conv jpeg seed-progressive.jpg "$rgb" -interlace JPEG -quality 70
conv jpeg seed-grey.jpg "$grey" -quality 90
conv jpeg seed-cmyk.jpg "$rgb" -colorspace CMYK
conv jpeg seed-420.jpg "$rgb" -sampling-factor 2x2 -quality 50
conv jpeg seed-arith.jpg "$rgb" -define jpeg:arithmetic-coding=on 2>/dev/null || true

conv png seed-rgb.png "$rgb"
conv png seed-grey.png "$grey"
conv png seed-rgba.png "$rgba"
convert "$rgb" -colors 16 "PNG8:$out/png/seed-palette.png"
convert "$rgb" -depth 16 "PNG48:$out/png/seed-16bit.png"
convert "$grey" -monochrome "$out/png/seed-1bit.png"
convert "$rgb" -interlace PNG "$out/png/seed-interlaced.png"

conv gif seed-still.gif "$rgb"
conv gif seed-interlaced.gif "$rgb" -interlace GIF
conv gif seed-grey.gif "$grey"
conv gif seed-transparent.gif "$rgba"
convert -delay 10 "$rgb" "$grey" -loop 0 "$out/gif/seed-animated.gif"

conv webp seed-lossy.webp "$rgb" -quality 80
conv webp seed-lossless.webp "$rgb" -define webp:lossless=true
conv webp seed-alpha.webp "$rgba" -quality 80
conv webp seed-alpha-lossless.webp "$rgba" -define webp:lossless=true
convert -delay 10 "$rgb" "$grey" -loop 0 "$out/webp/seed-animated.webp"

conv bmp seed-24.bmp "$rgb"
conv bmp seed-8.bmp "$rgb" -type palette
conv bmp seed-rle8.bmp "$rgb" -type palette -compress rle
conv bmp seed-4.bmp "$rgb" -colors 16 -type palette
conv bmp seed-1.bmp "$grey" -monochrome
conv bmp seed-565.bmp "$rgb" -define bmp:subtype=RGB565
conv bmp seed-32.bmp "$rgba" -define bmp:format=bmp4
convert "$rgb" "BMP2:$out/bmp/seed-os2-v2.bmp"
convert "$rgb" "BMP3:$out/bmp/seed-v3.bmp"

conv tiff seed-none.tif "$rgb" -compress none
conv tiff seed-lzw.tif "$rgb" -compress lzw
conv tiff seed-zip.tif "$rgb" -compress zip
conv tiff seed-jpeg.tif "$rgb" -compress jpeg
conv tiff seed-packbits-grey.tif "$grey" -compress rle
conv tiff seed-16bit.tif "$rgb" -depth 16
conv tiff seed-palette.tif "$rgb" -type palette
conv tiff seed-cmyk.tif "$rgb" -colorspace CMYK -depth 8
conv tiff seed-tiled.tif "$rgb" -define tiff:tile-geometry=16x16
conv tiff seed-rgba.tif "$rgba"
conv tiff seed-fax.tif "$grey" -monochrome -compress group4
convert "$rgb" "$grey" "$out/tiff/seed-2pages.tif"

conv heif seed-still.heic "$rgb" -quality 50
conv heif seed-alpha.heic "$rgba" -quality 50
conv heif seed-still.avif "$rgb" -quality 50

mkdir -p "$out/hex"
printf '%s' f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22 >"$out/hex/seed-valid"
printf '%s' F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22 >"$out/hex/seed-upper"
printf '%s' f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2 >"$out/hex/seed-short"
printf '%s' f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22x >"$out/hex/seed-long"
printf '%s' g8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22 >"$out/hex/seed-badchar"
printf '' >"$out/hex/seed-empty"

# fuzz_query: 4 bytes of geometry (width-1 and height-1, 9 bits each, little
# endian) then raw RGB rows that the target tiles over the picture
mkdir -p "$out/query"
qseed() { # NAME W H, raw RGB on stdin
	printf "\\x$(printf %02x $((($2 - 1) & 255)))\\x$(printf %02x $((($2 - 1) >> 8)))"
	printf "\\x$(printf %02x $((($3 - 1) & 255)))\\x$(printf %02x $((($3 - 1) >> 8)))"
	cat
}
printf '\x80\x10\x20' | qseed x 1 1 >"$out/query/seed-one-pixel"
printf '\x77\x77\x77' | qseed x 64 64 >"$out/query/seed-flat"
# a black band over the top with white glyph-like strokes (no font needed)
convert -size 100x100 gradient:red-blue -fill black -draw 'rectangle 0,0 99,14' -fill white \
	-draw 'rectangle 5,4 7,11 rectangle 10,4 15,5 rectangle 20,4 22,11 rectangle 26,9 40,11' \
	-depth 8 rgb:- | qseed x 100 100 >"$out/query/seed-caption"
convert -seed 7 -size 80x40 plasma:green-yellow -bordercolor black -border 0x10 -depth 8 rgb:- |
	qseed x 80 60 >"$out/query/seed-letterbox"
convert -seed 7 -size 100x100 xc:grey +noise Random -depth 8 rgb:- | head -c 997 | qseed x 300 200 >"$out/query/seed-noise-tiled"
convert -seed 7 -size 100x100 xc:grey +noise Random -depth 8 rgb:- | head -c 61 | qseed x 513 3 >"$out/query/seed-513x3"
convert -seed 7 -size 100x100 xc:grey +noise Random -depth 8 rgb:- | head -c 97 | qseed x 600 2 >"$out/query/seed-600x2"

ls "$out"/* | wc -l
du -sh "$out"
