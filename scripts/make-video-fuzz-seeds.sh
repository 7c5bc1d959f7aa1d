#!/bin/sh
# Writes the seed corpus of fuzz_video (fuzz/corpus/video/): tiny clips of
# ffmpeg's own test pattern in every container and codec hashgate decodes.
# Crash reproducers found later live next to them as crash-* and are kept.
# Usage: scripts/make-video-fuzz-seeds.sh
set -eu
cd "$(dirname "$0")/.."
out=fuzz/corpus/video
mkdir -p "$out"
find "$out" -name 'seed-*' -delete
src="-f lavfi -i testsrc2=size=32x24:rate=10 -t 0.6 -pix_fmt yuv420p"
ff() { name=$1; shift; ffmpeg -nostdin -v error -y $src "$@" "$out/seed-$name"; }
ff h264.mp4 -c:v libx264 -preset ultrafast
ff h264-bframes.mp4 -c:v libx264 -preset veryfast -movflags +faststart
ff h264.mov -c:v libx264 -preset ultrafast
ff h264.ts -c:v libx264 -preset ultrafast -f mpegts
ff vp8.webm -c:v libvpx -b:v 50k
ff vp9.mkv -c:v libvpx-vp9 -b:v 50k -deadline realtime
ff mpeg4.avi -c:v mpeg4
ff hevc.mp4 -c:v libx265 -preset ultrafast -x265-params log-level=none
ff anim.gif
ff anim.webp -c:v libwebp_anim -loop 0
# Streamable layouts with no declared length: fragmented MP4, and WebM
# written to a pipe (Matroska's "unknown size" segment and clusters).
ff h264-frag.mp4 -c:v libx264 -preset ultrafast -movflags frag_keyframe+empty_moov -g 2
ffmpeg -nostdin -v error -y $src -c:v libvpx -b:v 50k -f webm - > "$out/seed-vp8-live.webm"
ls -la "$out"
