# kyso serve, judged by `openssl ocsp` and curl: signed good/revoked/unknown answers, revocation
# seen within 1 s by a running responder (also on the cached, nonce-less path), nonces echoed,
# RFC 5019 GET, malformedRequest/unauthorized errors, /healthz, DER CRLs and CA certificates,
# and a graceful stop on SIGTERM.
#
# usage: bash ocsp_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

HOME_DIR="$WORK/home"
init_home "$HOME_DIR"
"$KYSO" ca chain --home "$HOME_DIR" >"$WORK/chain.pem"
awk '/BEGIN/{n++} n==1' "$WORK/chain.pem" >"$WORK/issuing.pem"
awk '/BEGIN/{n++} n==2' "$WORK/chain.pem" >"$WORK/root.pem"

issue() { # issue NAME OUT_PEM -> prints serial
  make_csr "$WORK/$1.csr" ec
  "$KYSO" cert issue --home "$HOME_DIR" --profile individual --csr "$WORK/$1.csr" \
    --name "Trần Văn $1" --email "$1@dongnai.gov.vn" --org 'Sở Tài chính' --out "$2" \
    2>"$WORK/issue.err" || fail "kyso cert issue failed: $(cat "$WORK/issue.err")"
}
LEAF="$WORK/leaf.pem"
SERIAL=$(issue leaf "$LEAF")
OTHER="$WORK/other.pem"
issue other "$OTHER" >/dev/null

start_serve "$HOME_DIR"
note "serve on $SERVE_URL (pid $SERVE_PID)"
grep -qF "kyso serving on $SERVE_URL" "$SERVE_LOG" ||
  fail "serve did not announce its URL: $(cat "$SERVE_LOG")"

# ocsp_query OUT [openssl ocsp options...]: POST through openssl ocsp with the leaf by default.
ocsp_query() {
  local out=$1
  shift
  openssl ocsp -issuer "$WORK/issuing.pem" -url "$SERVE_URL/ocsp" -CAfile "$WORK/chain.pem" \
    -timeout 5 "$@" >"$out" 2>&1
}

# --- good, with nonce (openssl's default), signature verified against the chain.
ocsp_query "$WORK/good.txt" -cert "$LEAF" -req_text -resp_text ||
  fail "openssl ocsp (nonce) failed: $(cat "$WORK/good.txt")"
grep -q "^Response verify OK" "$WORK/good.txt" ||
  fail "OCSP response signature does not verify: $(cat "$WORK/good.txt")"
grep -q "^$LEAF: good" "$WORK/good.txt" || fail "leaf is not 'good' over OCSP: $(cat "$WORK/good.txt")"
! grep -qi "no nonce in response\|nonce verify error" "$WORK/good.txt" ||
  fail "nonce not echoed: $(cat "$WORK/good.txt")"
mapfile -t nonces < <(grep -A1 'OCSP Nonce:' "$WORK/good.txt" | grep -v 'OCSP Nonce:\|^--' | tr -d ' ')
[[ ${#nonces[@]} -eq 2 && -n ${nonces[0]} && ${nonces[0]} == "${nonces[1]}" ]] ||
  fail "response nonce differs from request nonce: ${nonces[*]-}"
grep -q "Serial Number: ${SERIAL^^}" "$WORK/good.txt" ||
  fail "response is not about serial $SERIAL: $(cat "$WORK/good.txt")"
grep -q "Next Update:" "$WORK/good.txt" || fail "response has no nextUpdate"
note "good with nonce"

# Two nonce requests must get two fresh responses (a nonce response is never served from cache).
ocsp_query "$WORK/n2.txt" -cert "$LEAF" -req_text -resp_text || fail "second nonce query failed"
mapfile -t nonces2 < <(grep -A1 'OCSP Nonce:' "$WORK/n2.txt" | grep -v 'OCSP Nonce:\|^--' | tr -d ' ')
[[ ${#nonces2[@]} -eq 2 && ${nonces2[0]} == "${nonces2[1]}" && ${nonces2[0]} != "${nonces[0]}" ]] ||
  fail "second nonce request: nonces ${nonces2[*]-} (first was ${nonces[0]})"

# --- good without nonce: the cached path. Two queries give the same bytes.
ocsp_query "$WORK/nn1.txt" -cert "$LEAF" -no_nonce -respout "$WORK/nn1.der" ||
  fail "openssl ocsp -no_nonce failed: $(cat "$WORK/nn1.txt")"
grep -q "^Response verify OK" "$WORK/nn1.txt" && grep -q "^$LEAF: good" "$WORK/nn1.txt" ||
  fail "-no_nonce query: $(cat "$WORK/nn1.txt")"
ocsp_query "$WORK/nn2.txt" -cert "$LEAF" -no_nonce -respout "$WORK/nn2.der" ||
  fail "openssl ocsp -no_nonce (2) failed: $(cat "$WORK/nn2.txt")"
cmp -s "$WORK/nn1.der" "$WORK/nn2.der" ||
  fail "two nonce-less requests within the validity were not answered from the cache (bytes differ)"
note "good without nonce (cached)"

# --- unknown serial, and a request naming another issuer.
ocsp_query "$WORK/unknown.txt" -serial 0x1234 || fail "unknown serial query failed: $(cat "$WORK/unknown.txt")"
grep -q "^Response verify OK" "$WORK/unknown.txt" && grep -q "^0x1234: unknown" "$WORK/unknown.txt" ||
  fail "serial 0x1234 should be 'unknown': $(cat "$WORK/unknown.txt")"
if openssl ocsp -issuer "$WORK/root.pem" -serial 0x1234 -url "$SERVE_URL/ocsp" -CAfile "$WORK/chain.pem" \
  >"$WORK/unauth.txt" 2>&1; then
  fail "a request for another issuer's certificate succeeded: $(cat "$WORK/unauth.txt")"
fi
grep -q "Responder Error: unauthorized (6)" "$WORK/unauth.txt" ||
  fail "request for another issuer: expected unauthorized: $(cat "$WORK/unauth.txt")"

# --- GET (RFC 5019): DER request, base64, URL-encoded.
ocsp_get() { # ocsp_get REQ_DER RESP_DER [encode|raw]
  local b64 path
  b64=$(base64 -w0 "$1")
  if [[ ${3:-encode} == encode ]]; then path=$(urlencode_b64 "$b64"); else path=$b64; fi
  curl -sS --max-time 5 -o "$2" -w '%{http_code} %{content_type}' "$SERVE_URL/ocsp/$path"
}
openssl ocsp -issuer "$WORK/issuing.pem" -cert "$LEAF" -no_nonce -reqout "$WORK/get.req" >/dev/null 2>&1
meta=$(ocsp_get "$WORK/get.req" "$WORK/get.resp") || fail "GET /ocsp/<request> failed"
[[ $meta == "200 application/ocsp-response" ]] || fail "GET /ocsp: HTTP status/type '$meta'"
openssl ocsp -respin "$WORK/get.resp" -issuer "$WORK/issuing.pem" -cert "$LEAF" -no_nonce \
  -CAfile "$WORK/chain.pem" -resp_text >"$WORK/get.txt" 2>&1 || fail "GET response: $(cat "$WORK/get.txt")"
grep -q "^Response verify OK" "$WORK/get.txt" && grep -q "Cert Status: good" "$WORK/get.txt" ||
  fail "GET response is not a verified 'good': $(cat "$WORK/get.txt")"
# Requests whose base64 holds '+', '/' and '=' (unknown serials: answered 'unknown').
need_plus=1 need_slash=1 need_pad=1
for s in $(seq 1 400); do
  openssl ocsp -issuer "$WORK/issuing.pem" -serial "$s" -no_nonce -reqout "$WORK/g.req" >/dev/null 2>&1
  b64=$(base64 -w0 "$WORK/g.req")
  hit=0
  if ((need_plus)) && [[ $b64 == *+* ]]; then need_plus=0 hit=1; fi
  if ((need_slash)) && [[ $b64 == */* ]]; then need_slash=0 hit=1; fi
  if ((need_pad)) && [[ $b64 == *= ]]; then need_pad=0 hit=1; fi
  ((hit)) || continue
  meta=$(ocsp_get "$WORK/g.req" "$WORK/g.resp") || fail "GET for serial $s failed"
  openssl ocsp -respin "$WORK/g.resp" -issuer "$WORK/issuing.pem" -serial "$s" -no_nonce \
    -CAfile "$WORK/chain.pem" >"$WORK/g.txt" 2>&1 ||
    fail "GET /ocsp/$(urlencode_b64 "$b64") (serial $s): $meta $(cat "$WORK/g.txt")"
  grep -q "^$s: unknown" "$WORK/g.txt" || fail "GET for serial $s: $(cat "$WORK/g.txt")"
  ((need_plus + need_slash + need_pad)) || break
done
((need_plus + need_slash + need_pad == 0)) || fail "could not build requests covering + / = in base64"
note "GET requests ok (leaf, plus unknown serials 1..$s covering +, / and = in base64)"

# --- garbage POST: an OCSP malformedRequest response, not an HTTP error.
head -c 200 /dev/urandom >"$WORK/garbage.bin"
meta=$(curl -sS --max-time 5 -o "$WORK/garbage.resp" -w '%{http_code} %{content_type}' \
  -H 'Content-Type: application/ocsp-request' --data-binary @"$WORK/garbage.bin" "$SERVE_URL/ocsp") ||
  fail "garbage POST: curl failed"
[[ $meta == "200 application/ocsp-response" ]] || fail "garbage POST: HTTP '$meta'"
[[ $(der_hex "$WORK/garbage.resp") == 30030a0101 ]] ||
  fail "garbage POST: expected OCSPResponse{malformedRequest} (30 03 0a 01 01), got $(der_hex "$WORK/garbage.resp")"
openssl ocsp -respin "$WORK/garbage.resp" -resp_text >"$WORK/garbage.txt" 2>&1 || true
grep -qi "malformedrequest" "$WORK/garbage.txt" || fail "openssl does not read malformedRequest: $(cat "$WORK/garbage.txt")"
# Also for a GET whose path is not base64.
meta=$(curl -sS --max-time 5 -o "$WORK/garbage2.resp" -w '%{http_code}' "$SERVE_URL/ocsp/not-base64%21") ||
  fail "garbage GET: curl failed"
[[ $meta == 200 && $(der_hex "$WORK/garbage2.resp") == 30030a0101 ]] ||
  fail "garbage GET: HTTP $meta, body $(der_hex "$WORK/garbage2.resp")"
# GET /ocsp/ with nothing after it is a malformed request, and GET /ocsp (no request at all) is
# a client error of some kind: neither may be a server error.
meta=$(curl -sS --max-time 5 -o "$WORK/empty.resp" -w '%{http_code}' "$SERVE_URL/ocsp/") || fail "GET /ocsp/: curl failed"
[[ $meta == 200 && $(der_hex "$WORK/empty.resp") == 30030a0101 ]] ||
  check_later "GET /ocsp/: HTTP $meta, body $(der_hex "$WORK/empty.resp")"
meta=$(curl -sS --max-time 5 -o "$WORK/bare.resp" -w '%{http_code}' "$SERVE_URL/ocsp") || fail "GET /ocsp: curl failed"
if [[ $meta == 5* ]]; then
  check_later "GET $SERVE_URL/ocsp (no request in the path) answers HTTP $meta '$(head -c 100 "$WORK/bare.resp")'; expected a 4xx or an OCSP malformedRequest"
fi
curl -fsS --max-time 5 "$SERVE_URL/healthz" >/dev/null || fail "serve stopped answering after GET /ocsp"
note "malformed requests ok"

# --- /healthz, CRLs, CA certificates.
[[ $(curl -sS --max-time 5 "$SERVE_URL/healthz") == ok ]] || fail "/healthz did not say ok"
fetch() { # fetch PATH OUT -> prints content type; fails on non-200
  local meta
  meta=$(curl -sS --max-time 5 -o "$2" -w '%{http_code} %{content_type}' "$SERVE_URL$1") ||
    fail "GET $1: curl failed"
  [[ ${meta%% *} == 200 ]] || fail "GET $1: HTTP $meta"
  echo "${meta#* }"
}
for which in issuing root; do
  type=$(fetch "/crl/$which.crl" "$WORK/$which.crl")
  [[ $type == application/pkix-crl ]] || fail "/crl/$which.crl: content type '$type'"
  openssl crl -inform DER -in "$WORK/$which.crl" -noout -CAfile "$WORK/chain.pem" >"$WORK/crl.txt" 2>&1 ||
    fail "/crl/$which.crl is not a DER CRL: $(cat "$WORK/crl.txt")"
  grep -q "verify OK" "$WORK/crl.txt" || fail "/crl/$which.crl signature: $(cat "$WORK/crl.txt")"
  type=$(fetch "/ca/$which.crt" "$WORK/$which.crt")
  [[ $type == application/pkix-cert ]] || fail "/ca/$which.crt: content type '$type'"
  openssl x509 -inform DER -in "$WORK/$which.crt" -out "$WORK/$which.fetched.pem" 2>"$WORK/x.err" ||
    fail "/ca/$which.crt is not a DER certificate: $(cat "$WORK/x.err")"
  cmp -s <(openssl x509 -in "$WORK/$which.pem" -outform DER) "$WORK/$which.crt" ||
    fail "/ca/$which.crt differs from kyso ca chain"
done
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/nope") == 404 ]] || fail "unknown path is not 404"
note "healthz, CRL and CA endpoints ok"

# --- revoke in another process; the running responder answers 'revoked' within 1 s, on the
# cached nonce-less path (primed above) and with a nonce, and the served CRL lists it.
"$KYSO" cert revoke --home "$HOME_DIR" --serial "$SERIAL" --reason keyCompromise >"$WORK/revoke.out" 2>&1 ||
  fail "kyso cert revoke failed: $(cat "$WORK/revoke.out")"
t0=$(now_ms)
for mode in cached nonce; do
  extra=()
  [[ $mode == cached ]] && extra=(-no_nonce)
  while :; do
    ocsp_query "$WORK/rev.txt" -cert "$LEAF" "${extra[@]+"${extra[@]}"}" || true
    if grep -q "^$LEAF: revoked" "$WORK/rev.txt"; then break; fi
    (($(now_ms) - t0 <= 1000)) ||
      fail "OCSP ($mode) still not 'revoked' $(($(now_ms) - t0)) ms after kyso cert revoke: $(cat "$WORK/rev.txt")"
    sleep 0.05
  done
  grep -q "^Response verify OK" "$WORK/rev.txt" || fail "revoked response does not verify: $(cat "$WORK/rev.txt")"
  grep -q "Reason: keyCompromise" "$WORK/rev.txt" || fail "revoked without reason keyCompromise: $(cat "$WORK/rev.txt")"
  grep -q "Revocation Time:" "$WORK/rev.txt" || fail "no revocation time: $(cat "$WORK/rev.txt")"
  note "$mode path: revoked after $(($(now_ms) - t0)) ms"
done
# GET path (its own cache entry, primed above) too.
meta=$(ocsp_get "$WORK/get.req" "$WORK/get2.resp") || fail "GET after revoke failed"
openssl ocsp -respin "$WORK/get2.resp" -issuer "$WORK/issuing.pem" -cert "$LEAF" -no_nonce \
  -CAfile "$WORK/chain.pem" >"$WORK/get2.txt" 2>&1 || fail "GET after revoke: $(cat "$WORK/get2.txt")"
grep -q "^$LEAF: revoked" "$WORK/get2.txt" || fail "GET after revoke is not 'revoked': $(cat "$WORK/get2.txt")"
# The other certificate stays good.
ocsp_query "$WORK/other.txt" -cert "$OTHER" -no_nonce || fail "other cert query: $(cat "$WORK/other.txt")"
grep -q "^$OTHER: good" "$WORK/other.txt" || fail "an unrelated certificate changed status: $(cat "$WORK/other.txt")"
# The served issuing CRL lists the serial (the running server picks up the CRL revoke published).
while :; do
  fetch /crl/issuing.crl "$WORK/issuing2.crl" >/dev/null
  if openssl crl -inform DER -in "$WORK/issuing2.crl" -noout -text | grep -qi "Serial Number: $SERIAL"; then
    break
  fi
  (($(now_ms) - t0 <= 2000)) || fail "served issuing CRL does not list $SERIAL 2 s after revocation"
  sleep 0.05
done
note "served CRL lists the revoked serial"

# --- SIGTERM: exit 0 within 3 s, even with clients holding connections open (a keep-alive
# connection after a request, an idle one, one stuck half-way through a request body).
python3 - "$SERVE_PORT" >"$WORK/clients.txt" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port))
a.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
a.recv(4096)
b = socket.create_connection(("127.0.0.1", port))
c = socket.create_connection(("127.0.0.1", port))
c.sendall(b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123")
print("ready", flush=True)
time.sleep(30)
EOF
CLIENTS_PID=$!
track_pid "$CLIENTS_PID"
t0=$(now_ms)
until grep -q ready "$WORK/clients.txt"; do
  (($(now_ms) - t0 < 5000)) || fail "test clients did not connect: $(cat "$WORK/clients.txt")"
  sleep 0.05
done
kill -TERM "$SERVE_PID"
t0=$(now_ms)
while kill -0 "$SERVE_PID" 2>/dev/null; do
  (($(now_ms) - t0 <= 3000)) || fail "kyso serve still running 3 s after SIGTERM"
  sleep 0.05
done
rc=0
wait "$SERVE_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "kyso serve exited $rc after SIGTERM: $(tail -5 "$SERVE_LOG")"
note "serve stopped in $(($(now_ms) - t0)) ms with 3 client connections open"
kill "$CLIENTS_PID" 2>/dev/null || true
if curl -s --max-time 1 "$SERVE_URL/healthz" >/dev/null 2>&1; then
  fail "something still answers on $SERVE_URL after serve stopped"
fi

audit_ok "$HOME_DIR"
finish_checks
pass
