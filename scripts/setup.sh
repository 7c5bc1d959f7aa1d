#!/bin/sh
# Installs every Debian 12 package that hashgate's build, tests, benchmarks and
# demo need. Idempotent; run as root (or through sudo). Nothing else is fetched.
set -eu

PKGS="
  build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev
  libjpeg62-turbo-dev libpng-dev libgif-dev libwebp-dev libtiff-dev libheif-dev
  libssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  libmicrohttpd-dev libjansson-dev curl wrk
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  imagemagick mate-backgrounds gnuplot-nox
"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
echo "setup: all packages present"
