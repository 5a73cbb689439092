#!/usr/bin/env bash
# bench/ocsp.sh — OCSP responder throughput: `kyso serve` against `openssl ocsp -index`.
#
# 1. creates a deployment (`kyso init`) and issues N certificates with `kyso cert
#    issue-batch` (N=1000 by default), revokes one;
# 2. starts `kyso serve` on a free loopback port and builds RFC 5019 requests (no nonce, one
#    CertID each) with `openssl ocsp -reqout` for K of those certificates (the revoked one
#    among them);
# 3. loads it with wrk (POST, Content-Type: application/ocsp-request), once with a single
#    request repeated and once rotating over the K requests, with keep-alive and with
#    `Connection: close` (a new TCP connection per request);
# 4. does the same against `openssl ocsp -index index.txt -CA issuing.pem -rsigner ...` with
#    an index.txt listing the same serials (the revoked one as R) and its own software
#    responder key/certificate (kyso's keys are on the token and cannot be handed to it);
# 5. checks one captured response of each side with `openssl ocsp -respin` (signature and
#    status good / revoked).
#
# Environment: BUILD (default <repo>/build-bench), N (1000), K (100), DURATION (10 s),
# CONNS (32), WRK_THREADS (1), KYSO_BENCH_KEEP=1 keeps the temporary folder.
# Prints "RESULT key value" lines for bench/run.sh.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
KYSO=$BUILD/kyso
N=${N:-1000}
K=${K:-100}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-1}

for tool in "$KYSO" openssl wrk curl sqlite3 python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "ocsp.sh: $tool not found" >&2; exit 1; }
done

T=$(mktemp -d "${KYSO_BENCH_TMP:-/tmp}/kyso-bench-ocsp.XXXXXX")
KYSO_PID=""
PEER_PID=""
cleanup() {
  # Stop only the servers this script started, by their PIDs.
  [ -n "$KYSO_PID" ] && kill "$KYSO_PID" 2>/dev/null && wait "$KYSO_PID" 2>/dev/null || true
  [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null && wait "$PEER_PID" 2>/dev/null || true
  if [ -n "${KYSO_BENCH_KEEP:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_http() {  # URL: wait until it answers (10 s)
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "ocsp.sh: $1 did not come up" >&2
  return 1
}
result() { echo "RESULT $1 $2"; }

echo "== kyso OCSP benchmark =="
echo "cores $(nproc), load $(cut -d' ' -f1 /proc/loadavg), N=$N certificates, K=$K distinct requests, wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"

HOME_DIR=$T/home
KYSO_PORT=$(free_port)
"$KYSO" init --home "$HOME_DIR" --public-url "http://127.0.0.1:$KYSO_PORT" >/dev/null

# CSRs: a handful of P-256 keys; the manifest lists them N times (distinct keys are not
# needed for the responder).
mkdir -p "$T/csr" "$T/certs"
for i in $(seq 1 8); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=bench $i" \
    -keyout "$T/csr/$i.key" -out "$T/csr/$i.csr" 2>/dev/null
done
{
  echo "csr,name,email,org,unit"
  for i in $(seq 1 "$N"); do
    echo "$T/csr/$(( (i - 1) % 8 + 1 )).csr,Nguyễn Văn Bench $i,bench$i@dongnai.gov.vn,Sở Nội vụ,Phòng CNTT"
  done
} > "$T/manifest.csv"
start=$(date +%s.%N)
"$KYSO" cert issue-batch --home "$HOME_DIR" --manifest "$T/manifest.csv" --out-dir "$T/certs" --threads 2 >/dev/null
end=$(date +%s.%N)
issued=$(ls "$T/certs" | wc -l)
[ "$issued" -eq "$N" ] || { echo "ocsp.sh: issued $issued of $N" >&2; exit 1; }
cli_rate=$(python3 -c "print(f'{$N/($end-$start):.0f}')")
echo "issued $N certificates with kyso cert issue-batch in $(python3 -c "print(f'{$end-$start:.2f}')") s ($cli_rate/s, whole CLI process)"
result ocsp.setup.cli_issue_per_s "$cli_rate"

# The certificates asked about: K serials; the first one is revoked.
ls "$T/certs" | sed 's/\.pem$//' > "$T/all-serials.txt"
head -n "$K" "$T/all-serials.txt" > "$T/serials.txt"
REVOKED=$(head -n1 "$T/serials.txt")
GOOD=$(sed -n 2p "$T/serials.txt")
"$KYSO" cert revoke --home "$HOME_DIR" --serial "$REVOKED" --reason keyCompromise >/dev/null
"$KYSO" ca chain --home "$HOME_DIR" > "$T/chain.pem"
awk '/BEGIN CERT/{n++} n==1' "$T/chain.pem" > "$T/issuing.pem"

mkdir -p "$T/req"
i=0
while read -r s; do
  i=$((i + 1))
  openssl ocsp -issuer "$T/issuing.pem" -cert "$T/certs/$s.pem" -no_nonce -reqout "$T/req/$i.der" >/dev/null 2>&1
done < "$T/serials.txt"
cp "$T/req/2.der" "$T/one.der"  # a good certificate
# Requests with a nonce (RFC 8954) for the first 20: kyso signs every answer to those afresh.
mkdir -p "$T/nonce"
for i in $(seq 1 20); do
  s=$(sed -n "${i}p" "$T/serials.txt")
  [ -n "$s" ] || break
  openssl ocsp -issuer "$T/issuing.pem" -cert "$T/certs/$s.pem" -reqout "$T/nonce/$i.der" >/dev/null 2>&1
done

# wrk scripts: one static request, or a rotation over the K requests.
cat > "$T/one.lua" <<EOF
-- wrk normally opens a probe connection and closes it without sending a request; that
-- wedges the openssl ocsp responder (3.0) in a read() == 0 loop, so skip the probe (for both servers).
wrk.resolve = function(host, service) wrk.addrs = wrk.lookup(host, service) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open("$T/one.der", "rb"); wrk.body = f:read("*a"); f:close()
EOF
cat > "$T/many.lua" <<EOF
-- wrk normally opens a probe connection and closes it without sending a request; that
-- wedges the openssl ocsp responder (3.0) in a read() == 0 loop, so skip the probe (for both servers).
wrk.resolve = function(host, service) wrk.addrs = wrk.lookup(host, service) end
local reqs = {}
local n = 0
local headers = {["Content-Type"] = "application/ocsp-request"}
if os.getenv("WRK_CLOSE") == "1" then headers["Connection"] = "close" end
local dir = os.getenv("REQ_DIR") or "$T/req"
for i = 1, $K do
  local f = io.open(dir .. "/" .. i .. ".der", "rb")
  if f then
    reqs[#reqs + 1] = wrk.format("POST", nil, headers, f:read("*a")); f:close()
  end
end
request = function()
  n = n % #reqs + 1
  return reqs[n]
end
EOF

# run_wrk NAME URL SCRIPT [extra wrk args]: prints wrk's summary, emits RESULT lines.
run_wrk() {
  local name=$1 url=$2 script=$3; shift 3
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$script" "$@" "$url" 2>&1)
  local rps total errs non2xx p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  errs=$(awk -F'[ ,]+' '/Socket errors/ {print "connect="$4" read="$6" write="$8" timeout="$10}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '  %-34s %10s req/s  %8s requests  p50 %-8s p99 %-8s errors: %s non-2xx: %s\n' \
    "$name" "${rps:-0}" "${total:-0}" "${p50:--}" "${p99:--}" "${errs:-none}" "${non2xx:-0}"
  result "ocsp.$name.req_per_s" "${rps:-0}"
  [ -n "$errs" ] && result "ocsp.$name.socket_errors" "${errs// /,}"
  [ -n "$non2xx" ] && result "ocsp.$name.non2xx" "$non2xx"
  echo "$out" > "$T/wrk-$name.txt"
  LAST_RPS=${rps:-0}
}

# check_response NAME URL VERIFY_ARGS...: POST a good and the revoked request, check both.
check_responses() {
  local name=$1 url=$2; shift 2
  local ok=1
  for which in good revoked; do
    local req serial
    if [ "$which" = good ]; then req=$T/req/2.der; serial=$GOOD; else req=$T/req/1.der; serial=$REVOKED; fi
    curl -sf --data-binary @"$req" -H 'Content-Type: application/ocsp-request' "$url" -o "$T/$name-$which.resp"
    local text
    text=$(openssl ocsp -respin "$T/$name-$which.resp" -issuer "$T/issuing.pem" \
      -cert "$T/certs/$serial.pem" "$@" 2>&1 || true)
    if grep -q "Response verify OK" <<<"$text" && grep -q "$serial.pem: $which" <<<"$text"; then
      echo "  $name $which: Response verify OK, $which"
    else
      echo "  $name $which: WRONG ANSWER"; echo "$text" | sed 's/^/    /'; ok=0
    fi
  done
  [ "$ok" = 1 ] || { echo "ocsp.sh: $name answered wrongly" >&2; exit 1; }
}

# --- kyso ---------------------------------------------------------------------------------
"$KYSO" serve --home "$HOME_DIR" --listen "127.0.0.1:$KYSO_PORT" > "$T/kyso-serve.log" 2>&1 &
KYSO_PID=$!
wait_http "http://127.0.0.1:$KYSO_PORT/healthz"
KURL="http://127.0.0.1:$KYSO_PORT/ocsp"
echo "kyso serve (pid $KYSO_PID, $(nproc) server threads) on $KURL"
check_responses kyso "$KURL" -CAfile "$T/chain.pem"
# Warm the cache for the K serials (the first answer of each is signed on the token).
for f in "$T"/req/*.der; do
  curl -sf --data-binary @"$f" -H 'Content-Type: application/ocsp-request' "$KURL" -o /dev/null
done
run_wrk kyso.one "$KURL" "$T/one.lua"; K_ONE=$LAST_RPS
run_wrk kyso.many "$KURL" "$T/many.lua"; K_MANY=$LAST_RPS
WRK_CLOSE=1 run_wrk kyso.many.close "$KURL" "$T/many.lua"; K_CLOSE=$LAST_RPS
REQ_DIR=$T/nonce run_wrk kyso.nonce "$KURL" "$T/many.lua"; K_NONCE=$LAST_RPS
# Cached answers while 8 other connections send nonce requests (each signed on the token):
# shows whether signing holds up the cached path.
REQ_DIR=$T/nonce wrk -t1 -c8 -d"$((DURATION + 2))s" -s "$T/many.lua" "$KURL" > "$T/wrk-nonce-background.txt" 2>&1 &
BG_WRK=$!
sleep 1
run_wrk kyso.many.under_nonce_load "$KURL" "$T/many.lua"; K_MIXED=$LAST_RPS
wait "$BG_WRK" || true
echo "    (background nonce load meanwhile: $(awk '/Requests\/sec/ {print $2}' "$T/wrk-nonce-background.txt") req/s on 8 connections)"
kill "$KYSO_PID"; wait "$KYSO_PID" 2>/dev/null || true; KYSO_PID=""

# --- openssl ocsp ---------------------------------------------------------------------------
# index.txt in `openssl ca` format with the same serials (upper-case hex), the revoked one R.
sqlite3 "$HOME_DIR/kyso.db" "SELECT
    CASE WHEN revoked_at IS NULL THEN 'V' ELSE 'R' END || char(9) ||
    substr(strftime('%Y%m%d%H%M%S', not_after, 'unixepoch'), 3) || 'Z' || char(9) ||
    CASE WHEN revoked_at IS NULL THEN '' ELSE substr(strftime('%Y%m%d%H%M%S', revoked_at, 'unixepoch'), 3) || 'Z' || ',keyCompromise' END ||
    char(9) || upper(serial) || char(9) || 'unknown' || char(9) || '/CN=' || serial
  FROM certificates WHERE issuer = 'issuing' AND state = 'issued'" > "$T/index.txt"
echo "unique_subject = no" > "$T/index.txt.attr"
# (It also lists the OCSP responder certificate, which kyso answers for as well.)
for s in "$REVOKED" "$GOOD"; do
  grep -qi "	$s	" "$T/index.txt" || { echo "ocsp.sh: $s missing from index.txt" >&2; exit 1; }
done
grep -qi "^R	.*	$REVOKED	" "$T/index.txt" || { echo "ocsp.sh: $REVOKED not revoked in index.txt" >&2; exit 1; }
echo "index.txt: $(wc -l < "$T/index.txt") entries ($(grep -c '^R' "$T/index.txt") revoked)"
# The peer's responder key: software RSA-2048, self-signed with id-kp-OCSPSigning (clients
# trust it with -VAfile); kyso's OCSP key never leaves the token.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=Peer OCSP responder" \
  -addext "extendedKeyUsage=OCSPSigning" -keyout "$T/peer-ocsp.key" -out "$T/peer-ocsp.pem" 2>/dev/null
PEER_PORT=$(free_port)
PURL="http://127.0.0.1:$PEER_PORT/"
# start_peer: a fresh responder. `openssl ocsp` serves one connection at a time, and a client
# that closes a connection before sending its request (as wrk does when a run ends) leaves it
# spinning on that socket for good, so every wrk run gets a new one.
start_peer() {
  openssl ocsp -index "$T/index.txt" -port "$PEER_PORT" -rsigner "$T/peer-ocsp.pem" \
    -rkey "$T/peer-ocsp.key" -CA "$T/issuing.pem" -ignore_err -nmin 60 > "$T/peer.log" 2>&1 &
  PEER_PID=$!
  for _ in $(seq 100); do
    curl -sf --data-binary @"$T/one.der" -H 'Content-Type: application/ocsp-request' "$PURL" -o /dev/null 2>/dev/null && return 0
    kill -0 "$PEER_PID" 2>/dev/null || { echo "ocsp.sh: openssl ocsp exited:" >&2; cat "$T/peer.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "ocsp.sh: openssl ocsp did not answer" >&2; exit 1
}
stop_peer() { kill "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null || true; PEER_PID=""; }
start_peer
echo "openssl ocsp (pid $PEER_PID, one process) on $PURL"
check_responses openssl "$PURL" -VAfile "$T/peer-ocsp.pem"
stop_peer; start_peer
run_wrk openssl.one "$PURL" "$T/one.lua"; O_ONE=$LAST_RPS
stop_peer; start_peer
run_wrk openssl.many "$PURL" "$T/many.lua"; O_MANY=$LAST_RPS
stop_peer; start_peer
WRK_CLOSE=1 run_wrk openssl.many.close "$PURL" "$T/many.lua"; O_CLOSE=$LAST_RPS
stop_peer; start_peer
REQ_DIR=$T/nonce run_wrk openssl.nonce "$PURL" "$T/many.lua"; O_NONCE=$LAST_RPS
stop_peer

ratio() { python3 -c "a, b = float('$1' or 0), float('$2' or 0); print(f'{a/b:.1f}' if b > 0 else 'n/a')"; }
echo "kyso / openssl: one request $(ratio "$K_ONE" "$O_ONE")x, $K requests $(ratio "$K_MANY" "$O_MANY")x, $K requests with Connection: close $(ratio "$K_CLOSE" "$O_CLOSE")x, with nonce (signed per request) $(ratio "$K_NONCE" "$O_NONCE")x"
result ocsp.ratio.one "$(ratio "$K_ONE" "$O_ONE")"
result ocsp.ratio.many "$(ratio "$K_MANY" "$O_MANY")"
result ocsp.ratio.many.close "$(ratio "$K_CLOSE" "$O_CLOSE")"
result ocsp.ratio.nonce "$(ratio "$K_NONCE" "$O_NONCE")"
echo "kyso cached answers under nonce load: $K_MIXED req/s ($(ratio "$K_MIXED" "$K_MANY")x of unloaded)"
