#!/bin/sh
# Configures and builds one tree. Usage: scripts/build.sh [DIR] [cmake args...]
# DIR defaults to build/ (release); build-asan/ etc. are for sanitizer builds.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
ninja -C "$dir"
