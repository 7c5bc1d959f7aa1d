#!/bin/bash
# test_service_video.sh — videos through the real `hashgate serve` over HTTP:
# a banked video's re-encoded (and letterboxed) copies are blocked through
# vpdq entries added by the API, an unrelated video is allowed, an animated
# GIF is matched both ways (first frame vs PDQ, frames vs vPDQ), allow-list >
# block > review with a review item, removal and CLI imports reach the index,
# a restart reloads it, another tenant sees nothing, a client's own vPDQ
# lines (POST /v1/check/vpdq) match the same way, truncated / corrupt /
# over-limit videos get 400 / 413 with a clear error (unless their MD5 is
# banked: then the bank's verdict), and decisions are
# journalled (digests, verdict, the vPDQ bound by its SHA-256); SIGTERM while
# a video is hashed still answers it and exits 0.
#
# Clips are a few seconds of 320x180 made here with ffmpeg from Debian
# wallpapers (mate-backgrounds) and ffmpeg's test pattern.
set -u
: "${HASHGATE:?}"
for c in curl ffmpeg convert; do
	command -v $c >/dev/null || { echo "SKIP: $c missing"; exit 77; }
done
P=/usr/share/backgrounds/mate/nature
[ -r $P/Garden.jpg ] && [ -r $P/LadyBird.jpg ] || { echo "SKIP: mate-backgrounds missing"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/hg_svc_video.XXXXXX")
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT
export HASHGATE_DB="$T/gate.db"
. "$(dirname "$0")/service_lib.sh"

# ---- clips: a 6 s pan over a photo, its copies, an unrelated pan, edge cases
ff() { ffmpeg -nostdin -v error -y "$@" || fail "ffmpeg $*"; }
x264() { ff "$@" -c:v libx264 -preset ultrafast -pix_fmt yuv420p; }
pan="scale=480:270:force_original_aspect_ratio=increase,crop=320:180:x='(in_w-320)*t/6':y='(in_h-180)*t/6',format=yuv420p"
x264 -loop 1 -i $P/Garden.jpg -t 6 -r 10 -vf "$pan" -crf 20 "$T/orig.mp4"
x264 -loop 1 -i $P/LadyBird.jpg -t 6 -r 10 -vf "$pan" -crf 20 "$T/other.mp4"
x264 -i "$T/orig.mp4" -vf scale=240:136 -crf 36 -f matroska "$T/copy.mkv"
x264 -i "$T/orig.mp4" -vf "scale=320:140,pad=320:180:0:20:black" -crf 30 "$T/letterbox.mp4"
ff -i "$T/orig.mp4" -vf "fps=5,scale=160:-1" "$T/anim.gif"
x264 -f lavfi -i testsrc2=size=160x90:rate=5 -t 10 "$T/long.mp4"
x264 -f lavfi -i testsrc=size=160x90:rate=5 -t 10 "$T/long2.mp4"
x264 -f lavfi -i color=gray:size=160x90:rate=5 -t 2 "$T/flat.mp4"
ff -i "$T/orig.mp4" -c copy -movflags +faststart "$T/faststart.mp4"
head -c $(($(stat -c %s "$T/faststart.mp4") * 2 / 5)) "$T/faststart.mp4" > "$T/truncated.mp4"
printf '\x1a\x45\xdf\xa3garbage-matroska-garbage' > "$T/junk.mkv"
convert "$T/anim.gif[0]" "$T/first.png"

# Bank values: the CLI's frame hashes with quality >= 50, space-separated.
vpdq_of() { "$HASHGATE" hash "$1" | awk -F, '$2 >= 50 {print $3}' | tr '\n' ' ' | sed 's/ $//'; }
V_ORIG=$(vpdq_of "$T/orig.mp4")
V_OTHER=$(vpdq_of "$T/other.mp4")
PDQ_FIRST=$("$HASHGATE" hash "$T/first.png" | cut -d, -f1)
MD5_COPY=$(md5sum "$T/copy.mkv" | cut -d' ' -f1)
MD5_LONG=$(md5sum "$T/long.mp4" | cut -d' ' -f1)
[ -n "$V_ORIG" ] && [ -n "$V_OTHER" ] || { echo "cannot hash the clips"; exit 1; }

key() { "$HASHGATE" key create --tenant "$1" --role "$2" | tail -n 1; }
CURATOR=$(key acme curator)
CHECKER=$(key acme checker)
REVIEWER=$(key acme reviewer)
OTHER=$(key globex admin)

start_server --max-video-seconds 8

# ---- banks and vpdq entries through the API
json "$CURATOR" POST /v1/banks '{"name":"vb","action":"block"}'; expect "create vb" "$code" 201
json "$CURATOR" POST /v1/banks '{"name":"al","action":"allow"}'; expect "create al" "$code" 201
json "$CURATOR" POST /v1/banks '{"name":"ib","action":"review"}'; expect "create ib" "$code" 201
json "$CURATOR" POST /v1/banks/vb/entries \
	"{\"signal_type\":\"vpdq\",\"value\":\"$V_ORIG\",\"external_id\":\"case-v1\"}"
expect "add vpdq entry" "$code" 201; contains "vpdq added" "$body" '"added":1'
json "$CURATOR" POST /v1/banks/vb/entries "{\"signal_type\":\"md5\",\"value\":\"$MD5_LONG\"}"
expect "add md5 of a video" "$code" 201
json "$CURATOR" POST /v1/banks/vb/entries '{"signal_type":"vpdq","value":"abc def"}'
expect "bad vpdq value" "$code" 400; contains "bad vpdq says why" "$body" 'vpdq'
json "$OTHER" POST /v1/banks/vb/entries "{\"signal_type\":\"vpdq\",\"value\":\"$V_ORIG\"}"
expect "other tenant cannot add to vb" "$code" 404

# ---- checks
upload "$CHECKER" "$T/orig.mp4" video/mp4
expect "check orig" "$code" 200; contains "orig blocked" "$body" '"verdict":"block"'
contains "orig: vpdq match" "$body" '"signal_type":"vpdq","query_pct":100'
upload "$CHECKER" "$T/copy.mkv"
expect "check re-encoded copy" "$code" 200; contains "copy blocked" "$body" '"verdict":"block"'
contains "copy: bank named" "$body" '"bank":"vb","action":"block","entry_id":"1","signal_type":"vpdq"'
contains "copy: shares" "$body" '"target_pct":'
contains "copy: frame counts" "$body" '"query_frames_usable":6'
contains "copy: a video" "$body" '"format":"matroska"'
contains "copy: frames hashed" "$body" '"frames_hashed":6'
contains "copy: frames usable" "$body" '"frames_usable":6'
contains "copy: md5" "$body" "\"md5\":\"$MD5_COPY\""
contains "copy: vpdq used" "$body" '"vpdq_used":true'
req "$CHECKER" POST /v1/check -F "file=@$T/letterbox.mp4;type=video/mp4"
expect "check letterboxed copy (multipart)" "$code" 200
contains "letterbox blocked" "$body" '"verdict":"block"'
contains "letterbox: bars cropped" "$body" '"bars_cropped":true'
upload "$CHECKER" "$T/other.mp4" video/mp4
expect "check unrelated" "$code" 200; contains "unrelated allowed" "$body" '"verdict":"allow"'
contains "unrelated: no match" "$body" '"matches":[]'
upload "$CHECKER" "$T/long2.mp4"
expect "over-limit video" "$code" 413; contains "413 code" "$body" '"code":"too_large"'
contains "413 says the limit" "$body" 'lasts'
upload "$CHECKER" "$T/long.mp4"
expect "over-limit video whose md5 is banked" "$code" 200
contains "banked md5 still blocks" "$body" '"verdict":"block"'
contains "md5 match" "$body" '"signal_type":"md5"'
contains "says why vpdq is missing" "$body" '"video":{"error":'
upload "$CHECKER" "$T/truncated.mp4"
expect "truncated video" "$code" 400; contains "truncated: undecodable" "$body" '"code":"undecodable"'
contains "truncated: says video" "$body" 'cannot hash the video'
upload "$CHECKER" "$T/junk.mkv"
expect "corrupt video" "$code" 400; contains "corrupt: undecodable" "$body" '"code":"undecodable"'
upload "$CHECKER" "$T/flat.mp4"
expect "flat video" "$code" 200; contains "flat: vpdq not used" "$body" '"vpdq_used":false'
contains "flat: says why" "$body" 'no frame of the video has PDQ quality'
req "$CHECKER" POST /v1/check -H 'Content-Type: text/plain' --data-binary @"$T/orig.mp4"
expect "video as text/plain" "$code" 415

# Hash-only: the client sends the vPDQ lines it computed (and a digest).
"$HASHGATE" hash "$T/copy.mkv" > "$T/copy.vpdq"
req "$CHECKER" POST "/v1/check/vpdq?md5=$MD5_COPY" -H 'Content-Type: text/plain' \
	--data-binary @"$T/copy.vpdq"
expect "hash-only video check" "$code" 200; contains "hash-only blocked" "$body" '"verdict":"block"'
contains "hash-only: vpdq match" "$body" '"signal_type":"vpdq"'
contains "hash-only: frame counts" "$body" '"video":{"frames_hashed":6,"frames_usable":6}'
contains "hash-only: md5 kept" "$body" "\"md5\":\"$MD5_COPY\""
"$HASHGATE" hash "$T/other.mp4" > "$T/other.vpdq"
req "$CHECKER" POST /v1/check/vpdq -H 'Content-Type: text/plain' --data-binary @"$T/other.vpdq"
contains "hash-only unrelated" "$body" '"verdict":"allow"'
req "$CHECKER" POST /v1/check/vpdq -H 'Content-Type: text/plain' --data-binary $'0,100,abc,0.000\n'
expect "hash-only bad line" "$code" 400; contains "bad line named" "$body" '"code":"bad_vpdq"'
req "$CHECKER" POST /v1/check/vpdq -H 'Content-Type: text/plain' --data-binary $'# none\n'
expect "hash-only empty" "$code" 400
req "$CHECKER" POST "/v1/check/vpdq?md5=zz" -H 'Content-Type: text/plain' --data-binary @"$T/copy.vpdq"
expect "hash-only bad md5" "$code" 400
req "$OTHER" POST /v1/check/vpdq -H 'Content-Type: text/plain' --data-binary @"$T/copy.vpdq"
contains "hash-only other tenant" "$body" '"verdict":"allow"'

# An animated GIF: its first frame against PDQ entries, its frames against vpdq.
json "$CURATOR" POST /v1/banks/ib/entries "{\"signal_type\":\"pdq\",\"value\":\"$PDQ_FIRST\"}"
expect "add first-frame pdq" "$code" 201
upload "$CHECKER" "$T/anim.gif" image/gif
expect "check GIF" "$code" 200; contains "GIF blocked" "$body" '"verdict":"block"'
contains "GIF: first frame vs pdq" "$body" '"bank":"ib","action":"review","entry_id":"3","signal_type":"pdq"'
contains "GIF: frames vs vpdq" "$body" '"bank":"vb","action":"block","entry_id":"1","signal_type":"vpdq"'
contains "GIF: a gif video" "$body" '"format":"gif"'
contains "GIF: pdq used" "$body" '"pdq_used":true'

# Another tenant: nothing matches, no bank is named.
upload "$OTHER" "$T/copy.mkv"
expect "other tenant check" "$code" 200; contains "other tenant: allow" "$body" '"verdict":"allow"'
lacks "other tenant: no bank names" "$body" '"vb"'

# Allow-list beats block; removing the entry through the API restores the block.
json "$CURATOR" POST /v1/banks/al/entries "{\"signal_type\":\"vpdq\",\"value\":\"$V_ORIG\"}"
upload "$CHECKER" "$T/copy.mkv"
contains "allow beats block" "$body" '"verdict":"allow"'; contains "both listed" "$body" '"bank":"vb"'
req "$CURATOR" GET /v1/banks/al/entries
AID=$(echo "$body" | sed -n 's/.*{"id":\([0-9]*\),"signal_type":"vpdq".*/\1/p')
req "$CURATOR" DELETE "/v1/banks/al/entries/$AID"; expect "remove allow entry" "$code" 200
upload "$CHECKER" "$T/copy.mkv"
contains "block again after removal" "$body" '"verdict":"block"'; lacks "allow-list gone" "$body" '"bank":"al"'

# A review bank filled by the CLI while the gate runs: the follower indexes it.
echo "vpdq:$V_OTHER,other-1" > "$T/review.txt"
"$HASHGATE" bank create --tenant acme rv --action review >/dev/null &&
	"$HASHGATE" bank import --tenant acme --strict rv "$T/review.txt" >/dev/null ||
	fail "CLI import of a vpdq entry"
for _ in $(seq 30); do
	upload "$CHECKER" "$T/other.mp4"
	case "$body" in *'"verdict":"review"'*) break ;; esac
	sleep 0.2
done
contains "CLI import reaches the index" "$body" '"verdict":"review"'
contains "review item" "$body" '"review_id":"r_'
REVIEW_ID=$(echo "$body" | sed -n 's/.*"review_id":"\([^"]*\)".*/\1/p')
req "$REVIEWER" GET /v1/reviews; contains "review listed" "$body" "\"id\":\"$REVIEW_ID\""
contains "review has the shares" "$body" '"signal_type":"vpdq"'
req "$REVIEWER" GET "/v1/reviews/$REVIEW_ID"
contains "review keeps the video's frames" "$body" '"vpdq":"'

# Decisions keep hashes and verdicts (never the bytes).
req "$REVIEWER" GET "/v1/decisions?limit=500"; expect "decisions" "$code" 200
contains "decision has the video's md5" "$body" "$MD5_COPY"
contains "decision has the shares" "$body" '"query_pct":'

# A restart loads the vpdq entries from the store.
stop_server
start_server --max-video-seconds 8
upload "$CHECKER" "$T/copy.mkv"
contains "after restart: blocked" "$body" '"verdict":"block"'
upload "$CHECKER" "$T/other.mp4"
contains "after restart: review" "$body" '"verdict":"review"'
# Rejecting the video's review allow-lists the video in the same call.
R2=$(echo "$body" | sed -n 's/.*"review_id":"\([^"]*\)".*/\1/p')
json "$REVIEWER" POST "/v1/reviews/$R2" '{"decision":"reject","note":"a ladybird","allow_list":"al"}'
expect "reject video review + allow-list" "$code" 200
contains "video allow-listed" "$body" '"allow_list":{"added":1'
upload "$CHECKER" "$T/other.mp4"
contains "allow-listed video allowed" "$body" '"verdict":"allow"'
contains "through the allow-list's vpdq entry" "$body" '"bank":"al"'
req "" GET /readyz; contains "readyz counts videos" "$body" '"index_entries":'
stop_server

out=$("$HASHGATE" audit verify); expect "audit intact" "$?" 0
"$HASHGATE" audit show | grep -q '"vpdq_sha256":"[0-9a-f]\{64\}"' || fail "audit lacks the vPDQ digest"
checks=$((checks + 1))
sqlite3 "$HASHGATE_DB" "SELECT count(*) FROM hg_decisions" >/dev/null 2>&1 &&
	[ "$(sqlite3 "$HASHGATE_DB" "SELECT count(*) FROM hg_decisions WHERE md5 = '$MD5_COPY'")" -ge 4 ] ||
	fail "the copy's decisions are not in the journal"

# An animated GIF over a video limit whose first frame is banked: that bank's
# verdict, with the reason the frames were not hashed.
start_server --max-video-frames 10
upload "$CHECKER" "$T/anim.gif" image/gif
expect "GIF over the frame limit" "$code" 200
contains "first frame still decides" "$body" '"verdict":"review"'
contains "first frame matched" "$body" '"bank":"ib","action":"review","entry_id":"3","signal_type":"pdq"'
contains "why no vPDQ" "$body" '"video":{"error":'
upload "$CHECKER" "$T/copy.mkv"
expect "a video over the frame limit" "$code" 413
stop_server

# SIGTERM while a video is being hashed, past the drain timeout: the upload
# is still answered and the server exits 0 (MHD must not be stopped with the
# request's connection suspended).
x264 -f lavfi -i testsrc2=size=1280x720:rate=30 -t 8 -crf 40 "$T/big.mp4"
start_server --drain-timeout 0 --video-seconds-per-hash 0.1
upload "$CHECKER" "$T/big.mp4" video/mp4 &
UP=$!
# SIGTERM once the upload is in (this /metrics call is the other request)
# and its 1.4 MB body received.
for _ in $(seq 200); do
	curl -s "$B/metrics" | grep -q '^hashgate_requests_in_flight 2' && break
	sleep 0.01
done
sleep 0.05
kill -TERM "$PID"
wait "$PID"
expect "exit 0 with a video still hashing" "$?" 0
PID=
wait "$UP"
contains "the video being hashed is answered" "$(cat "$T/body")" '"verdict":"allow"'
contains "all its frames" "$(cat "$T/body")" '"frames_hashed":80'
contains "the drain waited for it" "$(cat "$T/serve.log")" "waiting for 1 uploads still being hashed"

echo "test_service_video: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
