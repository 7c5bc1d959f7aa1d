#!/bin/bash
# test_service.sh — drives the real `hashgate serve` over loopback with curl:
# every endpoint, every role, cross-tenant attempts, malformed JSON, bad hex,
# wrong content types, oversized bodies, rate limits, reviews, the verdict
# order (allow > block > review), the quality rule, the audit chain (intact,
# then tampered), config precedence and a SIGTERM drain.
# Needs curl, ImageMagick and the mate-backgrounds photos (exit 77 without).
set -u
: "${HASHGATE:?}"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }
command -v convert >/dev/null || { echo "SKIP: ImageMagick missing"; exit 77; }
SAMPLES=/usr/share/backgrounds/mate/nature
[ -f "$SAMPLES/Aqua.jpg" ] && [ -f "$SAMPLES/Dune.jpg" ] || { echo "SKIP: mate-backgrounds missing"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/hg_service.XXXXXX")
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export HASHGATE_DB="$T/gate.db"
. "$(dirname "$0")/service_lib.sh"

# ---- images: a sample, an edited copy (resized, re-encoded, mirrored), an
# unrelated photo, a flat (low-quality) picture, and a second sample.
convert "$SAMPLES/Aqua.jpg" -resize 640x "$T/orig.jpg"
convert "$T/orig.jpg" -resize 75% -flop -quality 70 "$T/edited.jpg"
convert "$SAMPLES/Dune.jpg" -resize 640x "$T/other.jpg"
convert "$SAMPLES/Garden.jpg" -resize 640x "$T/garden.jpg"
convert -size 200x200 xc:gray50 "$T/flat.png"
head -c 3000 /dev/urandom > "$T/noise.bin"
PDQ_ORIG=$("$HASHGATE" hash "$T/orig.jpg" | cut -d, -f1)
PDQ_GARDEN=$("$HASHGATE" hash "$T/garden.jpg" | cut -d, -f1)
MD5_OTHER=$(md5sum "$T/other.jpg" | cut -d' ' -f1)

# ---- keys
key() { "$HASHGATE" key create --tenant "$1" --role "$2" ${3:+--rate "$3" --burst "$3"} | tail -n 1; }
ADMIN=$(key acme admin)
CURATOR=$(key acme curator)
CHECKER=$(key acme checker)
REVIEWER=$(key acme reviewer)
OTHER=$(key globex admin)
SLOW=$(key acme checker 2)
contains "key format" "$ADMIN" "hgk_"
checks=$((checks + 1))
grep -q "$(echo "$ADMIN" | cut -d_ -f3)" "$HASHGATE_DB" && fail "the key secret is stored in clear"
REVOKED=$(key acme admin)
REVOKED_ID=$(echo "$REVOKED" | cut -d_ -f2)
"$HASHGATE" key revoke "$REVOKED_ID" >/dev/null || fail "key revoke"

# ---- the server: port 0 = any free port, read back from its log
cat > "$T/gate.conf" <<EOF
# settings file: flags and environment override these
max-body = 4096
request-timeout = 3
EOF
HASHGATE_MAX_BODY=2097152 start_server --config "$T/gate.conf" --request-timeout 2

# ---- health, readiness, metrics (no key needed)
req "" GET /healthz; expect healthz "$code" 200
req "" GET /readyz; expect readyz "$code" 200; contains readyz "$body" '"ready"'
req "" GET /nope; expect "unknown path" "$code" 404; contains "404 body" "$body" '"error":{"code":"not_found"'
req "" DELETE /healthz; expect "wrong method" "$code" 405

# ---- authentication
req "" GET /v1/banks; expect "no key" "$code" 401
contains "401 body" "$body" '"code":"unauthorized"'
req "hgk_kdeadbeef0000_00" GET /v1/banks; expect "unknown key" "$code" 401
req "${ADMIN%?}x" GET /v1/banks; expect "wrong secret" "$code" 401
req "$REVOKED" GET /v1/banks; expect "revoked key" "$code" 401

# ---- banks
json "$CURATOR" POST /v1/banks '{"name":"b1","action":"block","description":"test list"}'
expect "create b1" "$code" 201; contains "create b1" "$body" '"action":"block"'
json "$CURATOR" POST /v1/banks '{"name":"r1","action":"review"}'; expect "create r1" "$code" 201
json "$CURATOR" POST /v1/banks '{"name":"a1","action":"allow"}'; expect "create a1" "$code" 201
json "$CURATOR" POST /v1/banks '{"name":"b1","action":"block"}'; expect "duplicate bank" "$code" 409
json "$CURATOR" POST /v1/banks '{"name":"b2","action":"block"'; expect "malformed JSON" "$code" 400
contains "malformed JSON" "$body" '"code":"bad_json"'
json "$CURATOR" POST /v1/banks '["b2"]'; expect "JSON not an object" "$code" 400
json "$CURATOR" POST /v1/banks '{"name":"b 2"}'; expect "bad bank name" "$code" 400
json "$CURATOR" POST /v1/banks '{"name":"b2","colour":"red"}'; expect "unknown field" "$code" 400
json "$CURATOR" POST /v1/banks '{"name":"b2","action":"explode"}'; expect "bad action" "$code" 400
req "$CURATOR" POST /v1/banks -H 'Content-Type: text/plain' --data '{"name":"b2"}'
expect "wrong content type" "$code" 415
json "$CHECKER" POST /v1/banks '{"name":"b3"}'; expect "checker creates bank" "$code" 403
json "$REVIEWER" POST /v1/banks '{"name":"b3"}'; expect "reviewer creates bank" "$code" 403
req "$CHECKER" GET /v1/banks; expect "checker lists banks" "$code" 403
req "$REVIEWER" GET /v1/banks; expect "reviewer lists banks" "$code" 200
contains "bank list" "$body" '"name":"b1"'
req "$ADMIN" GET /v1/banks/b1; expect "get bank" "$code" 200
json "$CURATOR" PATCH /v1/banks/b1 '{"radius":40}'; expect "patch bank" "$code" 200
contains "patch bank" "$body" '"radius":40'
json "$CURATOR" PATCH /v1/banks/b1 '{"radius":400}'; expect "patch bad radius" "$code" 400
json "$CURATOR" PATCH /v1/banks/b1 '{"radius":31}'; expect "patch back" "$code" 200
json "$CURATOR" PATCH /v1/banks/missing '{"radius":31}'; expect "patch missing" "$code" 404

# ---- entries
json "$CURATOR" POST /v1/banks/b1/entries "{\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\",\"external_id\":\"case-1\"}"
expect "add one entry" "$code" 201; contains "add one" "$body" '"added":1'
json "$CURATOR" POST /v1/banks/b1/entries "{\"entries\":[{\"signal_type\":\"md5\",\"value\":\"$MD5_OTHER\"},{\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\"}]}"
expect "add batch" "$code" 201; contains "batch idempotent" "$body" '"unchanged":1'
json "$CURATOR" POST /v1/banks/b1/entries '{"signal_type":"pdq","value":"zz12"}'
expect "bad hex entry" "$code" 400
json "$CURATOR" POST /v1/banks/b1/entries '{"entries":[]}'; expect "empty batch" "$code" 400
json "$CURATOR" POST /v1/banks/nope/entries "{\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\"}"
expect "add to missing bank" "$code" 404
req "$CURATOR" GET /v1/banks/b1/entries; expect "curator lists entries" "$code" 200
contains "entries list" "$body" "$PDQ_ORIG"
req "$CHECKER" GET /v1/banks/b1/entries; expect "checker lists entries" "$code" 403
lacks "checker sees no entries" "$body" "$PDQ_ORIG"
req "$CURATOR" POST /v1/banks/r1/import -H 'Content-Type: text/plain' \
	--data-binary $'# review list\n'"$PDQ_GARDEN"$',garden-1\nnot-a-hash\n'
expect "import" "$code" 200; contains "import added" "$body" '"added":1'
contains "import bad line" "$body" '"bad_lines":1'

# ---- cross-tenant: another tenant's bank does not exist for it
req "$OTHER" GET /v1/banks/b1; expect "other tenant get" "$code" 404
req "$OTHER" GET /v1/banks/b1/entries; expect "other tenant entries" "$code" 404
json "$OTHER" POST /v1/banks/b1/entries "{\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\"}"
expect "other tenant add" "$code" 404
req "$OTHER" DELETE /v1/banks/b1; expect "other tenant delete" "$code" 404
req "$OTHER" GET /v1/banks; expect "other tenant list" "$code" 200; lacks "other tenant list" "$body" '"b1"'
json "$OTHER" POST /v1/banks '{"name":"b1","action":"block"}'; expect "same name, other tenant" "$code" 201

# ---- checks: uploads
req "$CHECKER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @"$T/orig.jpg"
expect "check original" "$code" 200; contains "original blocked" "$body" '"verdict":"block"'
contains "original match" "$body" '"bank":"b1"'; contains "hashes" "$body" "\"pdq\":\"$PDQ_ORIG\""
contains "the list's own id" "$body" '"external_id":"case-1"'
req "$CHECKER" POST /v1/check -F "file=@$T/edited.jpg;type=image/jpeg"
expect "check edited (multipart)" "$code" 200; contains "edited blocked" "$body" '"verdict":"block"'
contains "mirror found" "$body" '"variant":"flipy"'
req "$CHECKER" POST /v1/check -H 'Content-Type: image/jpeg' --data-binary @"$T/garden.jpg"
contains "garden in review bank" "$body" '"verdict":"review"'; contains "review id" "$body" '"review_id":"r_'
contains "imported external id" "$body" '"external_id":"garden-1"'
REVIEW_ID=$(echo "$body" | sed -n 's/.*"review_id":"\([^"]*\)".*/\1/p')
req "$OTHER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @"$T/orig.jpg"
contains "other tenant: no match" "$body" '"verdict":"allow"'; lacks "other tenant: no bank names" "$body" '"b1"'
req "$CHECKER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @"$T/other.jpg"
contains "md5 match" "$body" '"signal_type":"md5"'
req "$CHECKER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @"$T/noise.bin"
expect "undecodable upload" "$code" 400; contains "undecodable" "$body" '"code":"undecodable"'
req "$CHECKER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @/dev/null
expect "empty upload" "$code" 400
req "$CHECKER" POST /v1/check -H 'Content-Type: text/plain' --data-binary @"$T/orig.jpg"
expect "upload with a text type" "$code" 415
req "$CHECKER" POST /v1/check -F "other=@$T/orig.jpg"
expect "multipart without file" "$code" 400
req "$CHECKER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @"$T/flat.png"
expect "flat image" "$code" 200; contains "flat: pdq not used" "$body" '"pdq_used":false'
contains "flat: says why" "$body" 'quality'
head -c 2200000 /dev/zero > "$T/big.bin"
req "$CHECKER" POST /v1/check -H 'Content-Type: application/octet-stream' --data-binary @"$T/big.bin"
expect "oversized body (env beats file)" "$code" 413
contains "413 body" "$body" '"code":"too_large"'

# ---- checks: hash only
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG"; expect "hash check" "$code" 200
contains "hash check blocked" "$body" '"verdict":"block"'
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG&quality=20"
contains "low quality not used" "$body" '"pdq_used":false'; contains "low quality allowed" "$body" '"verdict":"allow"'
req "$CHECKER" GET "/v1/check?pdq=12345"; expect "short hex" "$code" 400
contains "bad hex code" "$body" '"code":"bad_hex"'
req "$CHECKER" GET "/v1/check?pdq=${PDQ_ORIG%??}zz"; expect "non-hex" "$code" 400
req "$CHECKER" GET "/v1/check?md5=abc"; expect "bad md5" "$code" 400
req "$CHECKER" GET "/v1/check"; expect "no hash" "$code" 400
req "$CHECKER" GET "/v1/check?md5=$MD5_OTHER"; contains "md5 only" "$body" '"verdict":"block"'
lacks "no external id, none reported" "$body" '"external_id"'
# the same hash in another tenant's list, with that list's id: each tenant
# hears only its own list's id
json "$OTHER" POST /v1/banks/b1/entries "{\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\",\"external_id\":\"globex-7\"}"
expect "other tenant's entry" "$code" 201
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG"; contains "own external id" "$body" '"external_id":"case-1"'
lacks "not the other tenant's id" "$body" 'globex-7'
req "$OTHER" GET "/v1/check?pdq=$PDQ_ORIG"; contains "other's own id" "$body" '"external_id":"globex-7"'
lacks "other does not hear ours" "$body" 'case-1'
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG&quality=500"; expect "bad quality" "$code" 400

# ---- reviews
req "$CHECKER" GET /v1/reviews; expect "checker reviews" "$code" 403
req "$REVIEWER" GET /v1/reviews; expect "list reviews" "$code" 200
contains "review listed" "$body" "\"id\":\"$REVIEW_ID\""
req "$OTHER" GET "/v1/reviews/$REVIEW_ID"; expect "other tenant review" "$code" 404
req "$REVIEWER" GET "/v1/reviews/$REVIEW_ID"; expect "get review" "$code" 200
json "$REVIEWER" POST "/v1/reviews/$REVIEW_ID" '{"decision":"maybe"}'; expect "bad decision" "$code" 400
json "$REVIEWER" POST "/v1/reviews/$REVIEW_ID" '{"decision":"reject","allow_list":"b1"}'
expect "allow-list that is not one" "$code" 400
json "$REVIEWER" POST "/v1/reviews/$REVIEW_ID" '{"decision":"reject","note":"a garden","allow_list":"a1"}'
expect "reject + allow-list" "$code" 200; contains "rejected" "$body" '"status":"rejected"'
json "$REVIEWER" POST "/v1/reviews/$REVIEW_ID" '{"decision":"confirm"}'; expect "decided twice" "$code" 409
json "$REVIEWER" POST /v1/reviews/r_nope '{"decision":"confirm"}'; expect "missing review" "$code" 404
req "$CHECKER" POST /v1/check -H 'Content-Type: image/jpeg' --data-binary @"$T/garden.jpg"
contains "allow-list beats review" "$body" '"verdict":"allow"'
# allow beats block: put the original into the allow-list too
json "$CURATOR" POST /v1/banks/a1/entries "{\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\"}"
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG"; contains "allow beats block" "$body" '"verdict":"allow"'
contains "both listed" "$body" '"bank":"b1"'
# remove it again by id
req "$CURATOR" GET /v1/banks/a1/entries
AID=$(echo "$body" | sed -n "s/.*{\"id\":\([0-9]*\),\"signal_type\":\"pdq\",\"value\":\"$PDQ_ORIG\".*/\1/p")
req "$CURATOR" DELETE "/v1/banks/a1/entries/$AID?reason=test"; expect "remove entry" "$code" 200
req "$CURATOR" DELETE "/v1/banks/a1/entries/$AID"; expect "remove twice" "$code" 404
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG"; contains "block again" "$body" '"verdict":"block"'

# ---- decisions: hashes and verdicts, never the bytes
req "$CHECKER" GET /v1/decisions; expect "checker decisions" "$code" 403
req "$REVIEWER" GET "/v1/decisions?limit=500"; expect "decisions" "$code" 200
contains "decision has hash" "$body" "$PDQ_ORIG"
req "$OTHER" GET "/v1/decisions?limit=500"; lacks "other tenant decisions" "$body" "$(echo "$CHECKER" | cut -d_ -f2)"
contains "own decisions" "$body" "$(echo "$OTHER" | cut -d_ -f2)"

# ---- rate limit: 2 requests/s, bucket 2
for i in 1 2 3 4; do req "$SLOW" GET "/v1/check?pdq=$PDQ_ORIG"; done
expect "rate limited" "$code" 429; contains "retry-after" "$(echo "$hdrs" | tr 'A-Z' 'a-z')" "retry-after: 1"
contains "429 body" "$body" '"code":"rate_limited"'

# ---- delete a bank
req "$CURATOR" DELETE /v1/banks/b1; expect "delete bank" "$code" 200
req "$CHECKER" GET "/v1/check?pdq=$PDQ_ORIG"; lacks "deleted bank no longer matches" "$body" '"bank":"b1"'
req "$CURATOR" GET /v1/banks/b1; expect "deleted bank is gone" "$code" 404
req "$CURATOR" DELETE /v1/banks/b1; expect "delete twice" "$code" 404
json "$CURATOR" POST /v1/banks '{"name":"b1","action":"review"}'; expect "name free again" "$code" 201
req "$CURATOR" GET /v1/banks/b1/entries; expect "new b1 is empty" "$body" '{"entries":[],"next_after":null}'

# ---- metrics after traffic
req "" GET /metrics; expect metrics "$code" 200
contains "metrics requests" "$body" 'hashgate_http_requests_total{route="check_upload",code="200"}'
contains "metrics latency" "$body" 'hashgate_http_request_duration_seconds_bucket{route="check_hash",le="0.005"}'
contains "metrics matches" "$body" 'hashgate_matches_total{tenant="acme",bank="b1",action="block"}'
contains "metrics index" "$body" 'hashgate_index_entries '

# ---- SIGTERM: drains and exits 0
kill -TERM "$PID"
wait "$PID"
rc=$?
expect "exit after SIGTERM" "$rc" 0
[ "$rc" -eq 0 ] || cat "$T/serve.log" >&2
PID=
contains "stopped" "$(cat "$T/serve.log")" "stopped"

# ---- audit: intact, then edited, then a record deleted
out=$("$HASHGATE" audit verify); expect "audit verify intact" "$?" 0
contains "audit intact" "$out" "intact"
n=$("$HASHGATE" audit show | wc -l)
checks=$((checks + 1)); [ "$n" -ge 20 ] || fail "only $n audit records"
"$HASHGATE" audit show | grep -q 'bank.create' || fail "bank.create not audited"
"$HASHGATE" audit show | grep -q 'review.reject' || fail "review.reject not audited"
cp "$HASHGATE_DB" "$T/copy.db"
cp "$HASHGATE_DB" "$T/copy2.db"
sqlite3 "$HASHGATE_DB" "UPDATE hg_audit SET detail = detail || ' ' WHERE seq = 12"
out=$("$HASHGATE" audit verify); expect "audit verify edited" "$?" 1
contains "names the edited record" "$out" "record 12 was modified"
sqlite3 "$T/copy.db" "DELETE FROM hg_audit WHERE seq = 9"
out=$(HASHGATE_DB="$T/copy.db" "$HASHGATE" audit verify); expect "audit verify deleted" "$?" 1
contains "names the deleted record" "$out" "record 9 is missing"
sqlite3 "$T/copy2.db" "DELETE FROM hg_audit WHERE seq = (SELECT MAX(seq) FROM hg_audit)"
out=$(HASHGATE_DB="$T/copy2.db" "$HASHGATE" audit verify); expect "audit verify tail deleted" "$?" 1
contains "names the deleted last record" "$out" "is missing (the log ends at"

echo "test_service: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
