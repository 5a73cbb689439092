# The timestamp authority of kyso serve (RFC 3161 over HTTP, POST /tsa), judged by `openssl ts`
# and curl: tokens for SHA-256/384/512 queries verify against the root with and without the
# TSA certificate in the token, the policy and nonce come back, the TSA certificate has the
# critical timeStamping EKU only, SHA-1 and malformed queries get a rejection with the right
# failInfo, non-DER bodies and wrong media types are refused over HTTP, no audit event is
# written per timestamp (the count goes to the log), and a deployment made before the TSA
# (no TSA key on the token, no TSA certificate in the store) gets both on its next start.
#
# usage: bash tsa_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

POLICY=2.16.704.1.99.2.1
HOME_DIR="$WORK/home"
init_home "$HOME_DIR"
"$KYSO" ca chain --home "$HOME_DIR" >"$WORK/chain.pem"
awk '/BEGIN/{n++} n==1' "$WORK/chain.pem" >"$WORK/issuing.pem"
awk '/BEGIN/{n++} n==2' "$WORK/chain.pem" >"$WORK/root.pem"
[[ $(sql "$HOME_DIR" "select count(*) from certificates where profile='tsa' and state='issued'") == 1 ]] ||
  fail "kyso init recorded no TSA certificate"

start_serve "$HOME_DIR"
note "serve on $SERVE_URL (pid $SERVE_PID)"
grep -qF "TSA          $SERVE_URL/tsa" "$SERVE_LOG" || fail "serve did not announce /tsa: $(cat "$SERVE_LOG")"

printf 'Quyết định số 15/QĐ-UBND ngày 25/11/2026 về việc cấp chứng thư số\n' >"$WORK/doc.txt"

# post QUERY_FILE OUT [content-type]: POSTs to /tsa; prints the HTTP status and content type.
post() {
  curl -sS --max-time 10 -o "$2" -w '%{http_code} %{content_type}' \
    -H "Content-Type: ${3:-application/timestamp-query}" --data-binary "@$1" "$SERVE_URL/tsa"
}
audit_rows() { sql "$HOME_DIR" "select count(*) from audit_events"; }
AUDIT0=$(audit_rows)

# --- the TSA certificate: critical EKU timeStamping only, under the issuing CA.
curl -fsS --max-time 5 "$SERVE_URL/ca/tsa.crt" -o "$WORK/tsa.der" || fail "GET /ca/tsa.crt failed"
openssl x509 -inform DER -in "$WORK/tsa.der" -out "$WORK/tsa.pem"
openssl x509 -in "$WORK/tsa.pem" -noout -text >"$WORK/tsa.txt"
grep -A1 'X509v3 Extended Key Usage: critical' "$WORK/tsa.txt" | tail -1 | grep -qx ' *Time Stamping' ||
  fail "TSA certificate lacks a critical EKU of exactly timeStamping: $(cat "$WORK/tsa.txt")"
grep -A1 'X509v3 Key Usage: critical' "$WORK/tsa.txt" | tail -1 |
  grep -qx ' *Digital Signature, Non Repudiation' || fail "TSA key usage: $(cat "$WORK/tsa.txt")"
openssl x509 -in "$WORK/tsa.pem" -noout -purpose | grep -qx 'Time Stamp signing : Yes' ||
  fail "openssl x509 -purpose: not a Time Stamp signing certificate"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/issuing.pem" -purpose timestampsign \
  "$WORK/tsa.pem" >"$WORK/verify.txt" 2>&1 || fail "TSA certificate does not verify: $(cat "$WORK/verify.txt")"
note "TSA certificate: critical timeStamping EKU, chains to the root"

# --- SHA-256 with nonce and certReq: the token carries the TSA certificate.
openssl ts -query -data "$WORK/doc.txt" -sha256 -cert -out "$WORK/q1.tsq" 2>/dev/null
got=$(post "$WORK/q1.tsq" "$WORK/r1.tsr")
[[ $got == "200 application/timestamp-reply" ]] || fail "POST /tsa answered '$got'"
openssl ts -verify -data "$WORK/doc.txt" -in "$WORK/r1.tsr" -CAfile "$WORK/root.pem" \
  -untrusted "$WORK/issuing.pem" >"$WORK/v1.txt" 2>&1 || fail "openssl ts -verify -data: $(cat "$WORK/v1.txt")"
grep -qx 'Verification: OK' "$WORK/v1.txt" || fail "openssl ts -verify: $(cat "$WORK/v1.txt")"
openssl ts -verify -queryfile "$WORK/q1.tsq" -in "$WORK/r1.tsr" -CAfile "$WORK/root.pem" \
  -untrusted "$WORK/issuing.pem" >"$WORK/v1q.txt" 2>&1 ||
  fail "openssl ts -verify -queryfile (nonce, imprint): $(cat "$WORK/v1q.txt")"
openssl ts -reply -in "$WORK/r1.tsr" -text >"$WORK/r1.txt" 2>&1 || fail "openssl ts -reply -text failed"
grep -qx 'Status: Granted.' "$WORK/r1.txt" || fail "status is not Granted: $(cat "$WORK/r1.txt")"
grep -qx "Policy OID: $POLICY" "$WORK/r1.txt" || fail "policy $POLICY missing: $(cat "$WORK/r1.txt")"
qnonce=$(openssl ts -query -in "$WORK/q1.tsq" -text 2>/dev/null | sed -n 's/^Nonce: //p')
rnonce=$(sed -n 's/^Nonce: //p' "$WORK/r1.txt")
[[ -n $qnonce && $qnonce == "$rnonce" ]] || fail "nonce not echoed: query '$qnonce', reply '$rnonce'"
grep -q '^TSA: DirName:.*Kyso Issuing CA TSA' "$WORK/r1.txt" || fail "TSA name missing: $(cat "$WORK/r1.txt")"
grep -q '^Accuracy: 0x01 seconds' "$WORK/r1.txt" || fail "accuracy missing: $(cat "$WORK/r1.txt")"
grep -qE '^Time stamp: [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} 20[0-9]{2} GMT$' "$WORK/r1.txt" ||
  fail "genTime: $(grep '^Time stamp' "$WORK/r1.txt")"
openssl ts -reply -in "$WORK/r1.tsr" -token_out -out "$WORK/tok1.der" 2>/dev/null
[[ $(openssl pkcs7 -inform DER -in "$WORK/tok1.der" -print_certs | grep -c '^subject=') == 2 ]] ||
  fail "certReq: the token should carry the TSA and issuing CA certificates"
note "SHA-256 + nonce + certReq: Verification OK, policy and nonce echoed"

# --- SHA-384 and SHA-512 without nonce or certReq: no certificates in the token, so the TSA
# certificate is given to the verifier.
for alg in sha384 sha512; do
  openssl ts -query -data "$WORK/doc.txt" -"$alg" -no_nonce -out "$WORK/q-$alg.tsq" 2>/dev/null
  got=$(post "$WORK/q-$alg.tsq" "$WORK/r-$alg.tsr")
  [[ $got == "200 application/timestamp-reply" ]] || fail "$alg: POST /tsa answered '$got'"
  openssl ts -reply -in "$WORK/r-$alg.tsr" -token_out -out "$WORK/tok-$alg.der" 2>/dev/null
  [[ $(openssl pkcs7 -inform DER -in "$WORK/tok-$alg.der" -print_certs | grep -c '^subject=') == 0 ]] ||
    fail "$alg: no certReq, yet the token carries certificates"
  cat "$WORK/issuing.pem" "$WORK/tsa.pem" >"$WORK/untrusted.pem"
  openssl ts -verify -data "$WORK/doc.txt" -in "$WORK/r-$alg.tsr" -CAfile "$WORK/root.pem" \
    -untrusted "$WORK/untrusted.pem" >"$WORK/v-$alg.txt" 2>&1 ||
    fail "$alg: openssl ts -verify: $(cat "$WORK/v-$alg.txt")"
  openssl ts -reply -in "$WORK/r-$alg.tsr" -text 2>/dev/null | grep -qx 'Nonce: unspecified' ||
    fail "$alg: a nonce appeared in a reply to a query without one"
done
note "SHA-384/512 without nonce or certReq: Verification OK"

# --- a document changed after the timestamp does not verify.
printf 'changed\n' >"$WORK/other.txt"
if openssl ts -verify -data "$WORK/other.txt" -in "$WORK/r1.tsr" -CAfile "$WORK/root.pem" \
  -untrusted "$WORK/issuing.pem" >/dev/null 2>&1; then
  fail "a token verified for a different document"
fi

# --- refusals in RFC 3161's terms: status rejection with failInfo, HTTP 200.
# rejected_with LABEL RESPONSE FAILURE_TEXT: openssl reads a rejection with that failure info
# and a status string.
rejected_with() {
  openssl ts -reply -in "$2" -text >"$WORK/rej.txt" 2>&1 || fail "$1: openssl cannot read the reply"
  grep -qx 'Status: Rejected.' "$WORK/rej.txt" || fail "$1: not rejected: $(cat "$WORK/rej.txt")"
  grep -qx "Failure info: $3" "$WORK/rej.txt" || fail "$1: failure info is not '$3': $(cat "$WORK/rej.txt")"
  grep -q '^Status description:' "$WORK/rej.txt" || fail "$1: no status string: $(cat "$WORK/rej.txt")"
}
openssl ts -query -data "$WORK/doc.txt" -sha1 -cert -out "$WORK/sha1.tsq" 2>/dev/null
got=$(post "$WORK/sha1.tsq" "$WORK/sha1.tsr")
[[ $got == "200 application/timestamp-reply" ]] || fail "SHA-1 query: HTTP '$got'"
rejected_with "SHA-1" "$WORK/sha1.tsr" 'unrecognized or unsupported algorithm identifier'
grep -q 'SHA-1' "$WORK/rej.txt" || fail "SHA-1 refusal does not say why: $(cat "$WORK/rej.txt")"
note "SHA-1 query: rejection, badAlg"

openssl ts -query -data "$WORK/doc.txt" -sha256 -tspolicy 1.2.3.4 -out "$WORK/pol.tsq" 2>/dev/null
post "$WORK/pol.tsq" "$WORK/pol.tsr" >/dev/null
rejected_with "other policy" "$WORK/pol.tsr" 'the requested TSA policy is not supported by the TSA'
grep -q "$POLICY" "$WORK/rej.txt" || fail "the policy refusal does not name the TSA's policy: $(cat "$WORK/rej.txt")"

printf '\x30\x03\x02\x01\x01' >"$WORK/seq.der" # a DER SEQUENCE, but no TimeStampReq
got=$(post "$WORK/seq.der" "$WORK/seq.tsr")
[[ $got == "200 application/timestamp-reply" ]] || fail "DER non-request: HTTP '$got'"
rejected_with "DER non-request" "$WORK/seq.tsr" 'the data submitted has the wrong format'
note "other policy, malformed request: rejections with failInfo"

# --- refusals over HTTP: not DER at all, wrong media type, wrong method.
printf 'hello, TSA' >"$WORK/garbage.bin"
got=$(post "$WORK/garbage.bin" "$WORK/garbage.out")
[[ $got == "400 text/plain; charset=utf-8" ]] || fail "garbage: HTTP '$got'"
grep -q 'not a DER TimeStampReq' "$WORK/garbage.out" || fail "garbage: '$(cat "$WORK/garbage.out")'"
got=$(post "$WORK/q1.tsq" "$WORK/ct.out" application/octet-stream)
[[ $got == 415* ]] && grep -q 'application/timestamp-query' "$WORK/ct.out" ||
  fail "wrong Content-Type: HTTP '$got' $(cat "$WORK/ct.out")"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$SERVE_URL/tsa")
[[ $code == 405 ]] || fail "GET /tsa answered $code"
curl -fsS --max-time 5 "$SERVE_URL/healthz" >/dev/null || fail "serve stopped answering"
note "garbage 400, wrong media type 415, GET 405"

# --- no audit event per timestamp; the count goes to the log at stop.
[[ $(audit_rows) == "$AUDIT0" ]] || fail "timestamps wrote audit events: $AUDIT0 -> $(audit_rows)"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
grep -q 'timestamps: .*(since start: 3, 4, 0)' "$SERVE_LOG" ||
  fail "serve did not log the timestamp counts: $(cat "$SERVE_LOG")"
note "no audit events for timestamps; counts logged"

# --- a deployment made before the TSA: no TSA key, no "tsa" role. The next start makes both.
OLD_SERIAL=$(openssl x509 -in "$WORK/tsa.pem" -noout -serial | cut -d= -f2)
if command -v pkcs11-tool >/dev/null; then
  for type in privkey pubkey; do
    SOFTHSM2_CONF="$HOME_DIR/softhsm2.conf" pkcs11-tool --module "$KYSO_SOFTHSM_MODULE" \
      --token-label kyso-ca --login --pin "$(cat "$HOME_DIR/secrets/user.pin")" \
      --delete-object --type "$type" --label kyso-tsa >/dev/null 2>&1 ||
      fail "could not delete the TSA $type to simulate an older deployment"
  done
else
  note "pkcs11-tool missing: only the TSA certificate is taken away, not its key"
fi
sql "$HOME_DIR" "delete from ca_keys where role='tsa'"
start_serve "$HOME_DIR"
curl -fsS --max-time 5 "$SERVE_URL/ca/tsa.crt" -o "$WORK/tsa2.der" || fail "GET /ca/tsa.crt (2) failed"
openssl x509 -inform DER -in "$WORK/tsa2.der" -out "$WORK/tsa2.pem"
NEW_SERIAL=$(openssl x509 -in "$WORK/tsa2.pem" -noout -serial | cut -d= -f2)
[[ $NEW_SERIAL != "$OLD_SERIAL" ]] || fail "no new TSA certificate was made"
[[ $(sql "$HOME_DIR" "select count(*) from ca_keys where role='tsa'") == 1 ]] || fail "no tsa role recorded"
post "$WORK/q1.tsq" "$WORK/r2.tsr" >/dev/null
openssl ts -verify -queryfile "$WORK/q1.tsq" -in "$WORK/r2.tsr" -CAfile "$WORK/root.pem" \
  -untrusted "$WORK/issuing.pem" >"$WORK/v2.txt" 2>&1 ||
  fail "token of the lazily made TSA does not verify: $(cat "$WORK/v2.txt")"
audit_ok "$HOME_DIR"
note "older deployment: TSA key and certificate made on first start"

pass "RFC 3161 /tsa verified by openssl ts"
