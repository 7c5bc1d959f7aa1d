#!/bin/bash
# test_bank_cli.sh — `hashgate bank` end to end on a SQLite store: every
# subcommand, exit codes, bad lines by number, --strict, export/import
# round trips in all three formats, export at a past version, --db vs
# HASHGATE_DB, and `bank add` hashing real (benign) images.
set -u
H=${HASHGATE:?}
T=$(mktemp -d /tmp/hg_bank_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check DESCRIPTION COMMAND... — the command must succeed
	local what=$1
	shift
	if ! "$@"; then
		echo "FAIL: $what" >&2
		fails=$((fails + 1))
	fi
}
rc_is() { # rc_is WANT DESCRIPTION COMMAND...
	local want=$1 what=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, expected $want" >&2
		cat "$T/err" >&2
		fails=$((fails + 1))
	fi
}
PDQ=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
MD5=d41d8cd98f00b204e9800998ecf8427e
SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
export HASHGATE_DB="$T/env.db"
DB=(--db "$T/b.db")

rc_is 0 "create" "$H" bank create list1 "${DB[@]}" --action review --radius 20 --description "a list"
rc_is 2 "create twice" "$H" bank create list1 "${DB[@]}"
rc_is 2 "bad name" "$H" bank create "bad name" "${DB[@]}"
rc_is 2 "bad option" "$H" bank list --strict "${DB[@]}"
rc_is 2 "unknown subcommand" "$H" bank frobnicate
rc_is 0 "show" "$H" bank show list1 "${DB[@]}"
check "show action" grep -q '^action: review$' "$T/out"
check "show radius" grep -q '^radius: 20$' "$T/out"
# HASHGATE_DB is used without --db, and --db wins over it
rc_is 0 "env db list" "$H" bank list
check "env db is empty" test ! -s "$T/out"
check "env db file created" test -f "$T/env.db"

printf '# a hotline list\n%s,case-1\n\nnot-a-hash\n%s\nsha256:%s,case-3\n' "$PDQ" "$MD5" "$SHA256" >"$T/l.txt"
rc_is 2 "strict import rejects" "$H" bank import list1 "$T/l.txt" --strict "${DB[@]}"
check "strict names line 4" grep -q 'l.txt:4:' "$T/err"
rc_is 0 "show after strict" "$H" bank show list1 "${DB[@]}"
check "strict left version 1" grep -q '^version: 1$' "$T/out"
rc_is 0 "lenient import" "$H" bank import list1 "$T/l.txt" "${DB[@]}"
check "lenient names line 4" grep -q 'l.txt:4:' "$T/err"
check "lenient added 3" grep -q '3 added, 0 unchanged, 1 bad line skipped; version 2' "$T/out"
rc_is 0 "re-import" "$H" bank import list1 "$T/l.txt" "${DB[@]}"
check "re-import idempotent" grep -q '0 added, 3 unchanged, 1 bad line skipped; version 2' "$T/out"

# export -> import round trips, each format
"$H" bank export list1 "${DB[@]}" | sort >"$T/base.txt"
check "export text" test "$(wc -l <"$T/base.txt")" -eq 3
check "sha256 keeps its prefix" grep -q "^sha256:$SHA256,case-3$" "$T/base.txt"
for f in text csv jsonl; do
	rc_is 0 "export $f" "$H" bank export list1 --format $f -o "$T/x.$f" "${DB[@]}"
	rc_is 0 "create rt-$f" "$H" bank create "rt-$f" "${DB[@]}"
	rc_is 0 "import $f" "$H" bank import "rt-$f" "$T/x.$f" --strict "${DB[@]}"
	"$H" bank export "rt-$f" "${DB[@]}" | sort >"$T/rt.txt"
	check "round trip $f" cmp -s "$T/base.txt" "$T/rt.txt"
done

# remove, history, export at a past version
rc_is 0 "remove" "$H" bank remove list1 "$MD5" --reason "false positive" --actor tester "${DB[@]}"
check "removed 1" grep -q '1 removed, 0 not found; version 3' "$T/out"
rc_is 0 "remove again" "$H" bank remove list1 "$MD5" "${DB[@]}"
check "nothing left" grep -q '0 removed, 1 not found; version 3' "$T/out"
rc_is 0 "export now" "$H" bank export list1 "${DB[@]}"
check "md5 gone now" test "$(grep -c "$MD5" "$T/out")" -eq 0
rc_is 0 "export v2" "$H" bank export list1 --version 2 "${DB[@]}"
check "md5 there at v2" grep -q "^$MD5$" "$T/out"
rc_is 2 "export v9" "$H" bank export list1 --version 9 "${DB[@]}"
rc_is 0 "export removed" "$H" bank export list1 --include-removed --format jsonl "${DB[@]}"
check "audit fields" grep -q '"removed_by":"tester","removed_reason":"false positive"' "$T/out"
rc_is 0 "history" "$H" bank history list1 "${DB[@]}"
check "history has 3 versions" test "$(wc -l <"$T/out")" -eq 3
check "history remove row" grep -q 'remove  +0 -1 by tester: false positive' "$T/out"
rc_is 0 "stats" "$H" bank stats list1 "${DB[@]}"
check "stats live" grep -q '^live: 2$' "$T/out"
check "stats removed" grep -q '^removed: 1$' "$T/out"

# edit
rc_is 0 "edit" "$H" bank edit list1 --action block --disable "${DB[@]}"
rc_is 0 "show edited" "$H" bank show list1 "${DB[@]}"
check "edited action" grep -q '^action: block$' "$T/out"
check "edited enabled" grep -q '^enabled: no$' "$T/out"
check "edit kept radius" grep -q '^radius: 20$' "$T/out"

# tenants are separate
rc_is 2 "other tenant cannot see" "$H" bank show list1 --tenant other "${DB[@]}"
rc_is 0 "other tenant same name" "$H" bank create list1 --tenant other "${DB[@]}"

# bank add: hash images into a bank
IMG=/usr/share/backgrounds/mate/nature
if [ -d "$IMG" ]; then
	rc_is 0 "create photos" "$H" bank create photos "${DB[@]}"
	rc_is 0 "add images" "$H" bank add --bank photos --digests "$IMG/Aqua.jpg" "$IMG/Dune.jpg" "${DB[@]}"
	"$H" hash "$IMG/Aqua.jpg" | cut -d, -f1 >"$T/aqua.pdq"
	rc_is 0 "export photos" "$H" bank export photos "${DB[@]}"
	check "add stored the same pdq as hash" grep -q "^$(cat "$T/aqua.pdq"),$IMG/Aqua.jpg$" "$T/out"
	check "add stored 6 entries" test "$(wc -l <"$T/out")" -eq 6
	mkdir -p "$T/folder/sub"
	cp "$IMG/Aqua.jpg" "$T/folder/" && cp "$IMG/Dune.jpg" "$T/folder/sub/"
	rc_is 0 "create folder bank" "$H" bank create folderbank "${DB[@]}"
	rc_is 0 "add a folder" "$H" bank add --bank folderbank "$T/folder" "${DB[@]}"
	check "folder: both images, walked in order" test "$(cut -d, -f3 "$T/out" | tr '\n' ' ')" = \
		"$T/folder/Aqua.jpg $T/folder/sub/Dune.jpg "
	echo "not an image" >"$T/folder/readme.txt"
	rc_is 2 "a folder with a non-image" "$H" bank add --bank folderbank "$T/folder" "${DB[@]}"
	check "the non-image is named" grep -q "readme.txt" "$T/err"
	rc_is 2 "add a non-image" "$H" bank add --bank photos "$T/l.txt" "${DB[@]}"
	rc_is 2 "add without --bank" "$H" bank add "$IMG/Aqua.jpg" "${DB[@]}"

	# match --bank: same output and exit codes as match --list
	convert "$IMG/Aqua.jpg" -resize 50% -flop "$T/aqua_edit.jpg"
	"$H" bank export photos --format csv "${DB[@]}" | grep '^pdq,' | cut -d, -f2 >"$T/photos.list"
	rc_is 1 "match bank: edited copy" "$H" match "${DB[@]}" --bank photos "$T/aqua_edit.jpg"
	check "edited copy matches Aqua" grep -q "aqua_edit.jpg: match id=$IMG/Aqua.jpg distance=[0-9]* variant=" "$T/out"
	rc_is 1 "match list: edited copy" "$H" match --list "$T/photos.list" "$T/aqua_edit.jpg"
	check "same distance as --list" test "$(sed 's/.*distance=//' "$T/out")" = \
		"$(grep -o 'distance=.*' <("$H" match "${DB[@]}" --bank photos "$T/aqua_edit.jpg") | sed 's/distance=//')"
	rc_is 1 "match bank: original (digests too)" "$H" match "${DB[@]}" --bank photos "$IMG/Aqua.jpg"
	check "md5 hit" grep -q 'distance=0 variant=md5' "$T/out"
	check "sha256 hit" grep -q 'distance=0 variant=sha256' "$T/out"
	rc_is 0 "match bank: unrelated" "$H" match "${DB[@]}" --bank photos "$IMG/Blinds.jpg"
	check "unrelated: no match" grep -q 'Blinds.jpg: no match' "$T/out"
	rc_is 2 "match unknown bank" "$H" match "${DB[@]}" --bank nope "$IMG/Aqua.jpg"
	rc_is 2 "match bank, unreadable image" "$H" match "${DB[@]}" --bank photos "$T/l.txt"
	# the bank's radius applies: 0 rejects the edited copy (distance > 0)
	rc_is 0 "radius 0" "$H" bank edit photos --radius 0 "${DB[@]}"
	rc_is 0 "edited copy outside radius 0" "$H" match "${DB[@]}" --bank photos "$T/aqua_edit.jpg"
	rc_is 1 "--radius overrides" "$H" match "${DB[@]}" --bank photos --radius 31 "$T/aqua_edit.jpg"
	rc_is 0 "radius back" "$H" bank edit photos --radius 31 "${DB[@]}"
	# a removed entry no longer matches
	rc_is 0 "remove Aqua pdq" "$H" bank remove photos "$(cat "$T/aqua.pdq")" "${DB[@]}"
	rc_is 0 "removed: no pdq match" "$H" match "${DB[@]}" --bank photos "$T/aqua_edit.jpg"
	rc_is 0 "disable" "$H" bank edit photos --disable "${DB[@]}"
	rc_is 2 "disabled bank refuses" "$H" match "${DB[@]}" --bank photos "$IMG/Aqua.jpg"
else
	echo "note: $IMG absent, bank add not exercised"
fi

if [ "$fails" -ne 0 ]; then
	echo "test_bank_cli: $fails failures"
	exit 1
fi
echo "test_bank_cli: all passed"
