#!/bin/sh
# Writes the H.264 clips bench_video times: a slow pan across a Debian
# wallpaper (mate-backgrounds), 20 s at 30 fps, in 720p and 1080p, encoded by
# x264 at its "veryfast" preset (B-frames on, as most encoders ship).
# Usage: scripts/make-bench-videos.sh [DIR]   (default build/bench-videos)
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build/bench-videos}
photo=/usr/share/backgrounds/mate/abstract/Elephants_3840x2160.jpg
mkdir -p "$dir"
for size in 1280x720 1920x1080; do
	w=${size%x*}
	h=${size#*x}
	out="$dir/pan-${h}p.mp4"
	[ -s "$out" ] && continue
	ffmpeg -nostdin -v error -y -loop 1 -i "$photo" -t 20 -r 30 \
		-vf "scale=$((w * 3 / 2)):-2,crop=$w:$h:x='(in_w-$w)*t/20':y='(in_h-$h)*t/20',format=yuv420p" \
		-c:v libx264 -preset veryfast -crf 23 "$out"
	echo "$out"
done
