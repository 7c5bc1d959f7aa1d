#!/bin/bash
# test_match.sh — `hashgate match` end to end: exit codes (0 none, 1 match,
# 2 error), every dihedral variant found with its name, ids from ',id' and
# from line numbers, bad list lines reported by line number, low-quality
# images skipped (text and JSON), and a 200k-line list.
set -u
H=${HASHGATE:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND... : the command must succeed
	local what=$1
	shift
	if ! "$@"; then
		echo "FAIL: $what"
		fail=1
	fi
}

img=/usr/share/backgrounds/mate/nature/Aqua.jpg
[ -f "$img" ] || img=$(find /usr/share/backgrounds/mate -name '*.jpg' | head -n 1)
if [ -z "$img" ]; then
	convert -size 256x256 plasma:fractal -seed 7 "$tmp/base.png"
	img=$tmp/base.png
fi
other=$tmp/other.png
convert -size 256x256 -seed 3 plasma:fractal "$other"
convert -size 200x200 xc:gray50 "$tmp/flat.png"
convert "$img" -rotate 90 "$tmp/rot.png"
convert "$img" -flop "$tmp/mirror.png"

orig=$("$H" hash "$img" | cut -d, -f1)
check "hash the base image" test ${#orig} -eq 64

# list: a comment, a blank line, the image's hash with an id, junk far away
{
	echo "# a test list"
	echo
	echo "0000000000000000000000000000000000000000000000000000000000000000"
	echo "$orig,known-1"
	echo "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
} >"$tmp/list.txt"

out=$("$H" match --list "$tmp/list.txt" "$img")
rc=$?
check "exact image matches (rc=$rc)" test $rc -eq 1
check "id from ',id' and distance 0 on orig: $out" \
	grep -q "match id=known-1 distance=0 variant=orig" <<<"$out"

out=$("$H" match --list "$tmp/list.txt" "$tmp/rot.png")
rc=$?
check "rotated copy matches (rc=$rc)" test $rc -eq 1
check "rotation reported as a non-orig variant: $out" \
	grep -Eq "match id=known-1 distance=[0-9]+ variant=rot(90|270)" <<<"$out"

out=$("$H" match --json --list "$tmp/list.txt" "$tmp/mirror.png")
check "mirror found as flipy in JSON: $out" \
	grep -Eq '^\{"file": ?"[^"]*mirror.png", ?"matches": ?\[\{"id": ?"known-1", ?"distance": ?[0-9]+, ?"variant": ?"flipy"\}\]\}$' <<<"$out"

out=$("$H" match --list "$tmp/list.txt" "$other")
rc=$?
check "unrelated image: no match, rc 0 (rc=$rc, $out)" test $rc -eq 0
check "says no match" grep -q "other.png: no match" <<<"$out"

# ids default to the line number
sed 's/,known-1$//' "$tmp/list.txt" >"$tmp/noid.txt"
out=$("$H" match --list "$tmp/noid.txt" "$img")
check "line number as id: $out" grep -q "match id=4 distance=0" <<<"$out"

# radius: the far hashes match at 256 only
out=$("$H" match --radius 256 --list "$tmp/list.txt" "$img")
check "radius 256 matches all 3: $out" test "$(grep -c ' match ' <<<"$out")" -eq 3
"$H" match --radius 300 --list "$tmp/list.txt" "$img" >/dev/null 2>&1
check "radius out of range is a usage error" test $? -eq 2

# low quality: skipped, said so, never matched
convert "$tmp/flat.png" -format png "$tmp/flat2.png"
fq=$("$H" hash "$tmp/flat.png" | cut -d, -f1)
echo "$fq,flat-entry" >>"$tmp/list.txt"
out=$("$H" match --list "$tmp/list.txt" "$tmp/flat.png")
rc=$?
check "flat image not matched (rc=$rc)" test $rc -eq 0
check "flat image reported as skipped: $out" grep -q "skipped: PDQ quality" <<<"$out"
out=$("$H" match --json --list "$tmp/list.txt" "$tmp/flat.png")
check "JSON says low_quality: $out" grep -q '"skipped": *"low_quality"' <<<"$out"

# errors: bad lines with their numbers, the list refused
printf '%s\nnot-a-hash\n%s,\n%s0\n' "$orig" "$orig" "$orig" >"$tmp/bad.txt"
err=$("$H" match --list "$tmp/bad.txt" "$img" 2>&1 >/dev/null)
rc=$?
check "bad list: rc 2 (rc=$rc)" test $rc -eq 2
check "line 2 reported: $err" grep -q "bad.txt:2:" <<<"$err"
check "line 3 reported (empty id): $err" grep -q "bad.txt:3: empty id" <<<"$err"
check "line 4 reported: $err" grep -q "bad.txt:4:" <<<"$err"
"$H" match --list "$tmp/missing.txt" "$img" >/dev/null 2>&1
check "missing list: rc 2" test $? -eq 2
"$H" match --list "$tmp/list.txt" "$tmp/nope.jpg" >/dev/null 2>&1
check "missing image: rc 2" test $? -eq 2
"$H" match --list "$tmp/list.txt" "$img" "$tmp/nope.jpg" >"$tmp/o" 2>/dev/null
check "match + error: rc 2, match still printed" test $? -eq 2
check "match printed despite the error" grep -q "known-1" "$tmp/o"
"$H" match "$img" >/dev/null 2>&1
check "no list: usage error" test $? -eq 2

# a 200k-line list with the image's hash planted near the end
awk 'BEGIN { srand(42); for (i = 0; i < 200000; i++) { s = "";
	for (k = 0; k < 8; k++) s = s sprintf("%08x", int(rand() * 4294967296)); print s "," i } }' \
	>"$tmp/big.txt"
echo "$orig,planted" >>"$tmp/big.txt"
start=$(date +%s%N)
out=$("$H" match --list "$tmp/big.txt" "$img")
rc=$?
end=$(date +%s%N)
echo "200k-line list: $(((end - start) / 1000000)) ms including hashing"
check "planted entry found in 200k list (rc=$rc): $out" grep -q "match id=planted distance=0" <<<"$out"

[ $fail -eq 0 ] && echo "test_match: all checks passed"
exit $fail
