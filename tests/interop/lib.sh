# Shared helpers for the interop tests. Sourced, never run.
#
# A test does:
#   source "$(dirname "$0")/lib.sh"
#   interop_setup "$@"          # KYSO, REPO, WORK (temp folder removed on exit), strict mode
#   ...
#   pass "what was shown"
#
# Everything a test starts in the background is registered with track_pid and killed on exit.
# Set KYSO_INTEROP_KEEP=1 to keep the temp folder of a failed test for inspection.

set -Eeuo pipefail

KYSO_SOFTHSM_MODULE=${KYSO_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
_INTEROP_PIDS=()
_INTEROP_T0=$(date +%s%N)

# fail MESSAGE: the one way a test reports failure.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

note() { echo "[$(basename "$0" .sh) +$(elapsed_ms)ms] $*"; }

# elapsed_ms: milliseconds since the test started.
elapsed_ms() { echo $((($(date +%s%N) - _INTEROP_T0) / 1000000)); }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

pass() {
  echo "PASS: $(basename "$0" .sh) in $(elapsed_ms) ms${1:+ ($*)}"
  exit 0
}

track_pid() { _INTEROP_PIDS+=("$1"); }

# check_later MESSAGE: record a failure but carry on, so one kyso bug does not hide the checks
# after it; finish_checks fails the test if any were recorded.
_INTEROP_LATER=()
check_later() {
  echo "  FAILED (continuing): $*" >&2
  _INTEROP_LATER+=("$*")
}
finish_checks() {
  if ((${#_INTEROP_LATER[@]})); then
    printf 'FAIL: %s\n' "${_INTEROP_LATER[@]}" >&2
    fail "${#_INTEROP_LATER[@]} check(s) failed"
  fi
}

_interop_cleanup() {
  local rc=$?
  local pid
  for pid in "${_INTEROP_PIDS[@]+"${_INTEROP_PIDS[@]}"}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n ${WORK:-} && -d $WORK ]]; then
    if [[ $rc -ne 0 && -n ${KYSO_INTEROP_KEEP:-} ]]; then
      echo "kept $WORK for inspection" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}

_interop_err() {
  local rc=$? line=$1 cmd=$2
  echo "FAIL: unexpected exit $rc at $(basename "$0"):$line: $cmd" >&2
}

# interop_setup KYSO_BINARY REPO_ROOT
interop_setup() {
  [[ $# -ge 2 ]] || { echo "usage: bash $0 <path-to-kyso> <repo-root>" >&2; exit 2; }
  KYSO=$(realpath "$1")
  REPO=$(realpath "$2") # for tests that read repository files
  export REPO
  [[ -x $KYSO ]] || fail "kyso binary $KYSO is not executable"
  local tool
  for tool in openssl sqlite3 curl python3; do
    command -v "$tool" >/dev/null || fail "required tool '$tool' is not installed"
  done
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/kyso-interop.XXXXXX")
  trap _interop_cleanup EXIT
  trap '_interop_err $LINENO "$BASH_COMMAND"' ERR
  trap 'exit 130' INT TERM
  # A kyso started by a test must never see a PIN from the caller's environment.
  unset KYSO_CA_PIN SOFTHSM2_CONF
  export LC_ALL=C.UTF-8
}

# init_home DIR [--defaults | kyso init options...]: a fresh deployment; EC P-256 keys when no
# options are given, kyso's own defaults (RSA) with --defaults.
init_home() {
  local dir=$1
  shift
  local args=("$@")
  if [[ ${#args[@]} -eq 0 ]]; then
    args=(--root-key ec-p256 --issuing-key ec-p256 --ocsp-key ec-p256)
  elif [[ ${args[0]} == --defaults ]]; then
    args=("${args[@]:1}")
  fi
  "$KYSO" init --home "$dir" "${args[@]+"${args[@]}"}" >"$WORK/init.out" 2>"$WORK/init.err" ||
    fail "kyso init --home $dir ${args[*]} failed: $(cat "$WORK/init.err")"
}

# make_csr OUT_PEM [KEYSPEC] [extra openssl req options...]
#   KEYSPEC: ec (P-256, default), rsa:BITS, or key=FILE to reuse a private key.
make_csr() {
  local out=$1 spec=${2:-ec}
  shift 2 || shift $#
  local keyargs
  case $spec in
    ec) keyargs=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$out.key") ;;
    rsa:*) keyargs=(-newkey "$spec" -keyout "$out.key") ;;
    key=*) keyargs=(-key "${spec#key=}") ;;
    *) fail "make_csr: unknown key spec $spec" ;;
  esac
  openssl req -new "${keyargs[@]}" -nodes -subj /CN=x -out "$out" "$@" 2>"$WORK/req.err" ||
    fail "openssl req ($spec) failed: $(cat "$WORK/req.err")"
}

# free_port: a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_serve HOME: runs kyso serve in the background; sets SERVE_PID, SERVE_PORT, SERVE_URL,
# SERVE_LOG. Retries another port if the chosen one was taken in between.
start_serve() {
  local home=$1 attempt deadline
  for attempt in 1 2 3 4 5; do
    SERVE_PORT=$(free_port)
    SERVE_URL="http://127.0.0.1:$SERVE_PORT"
    SERVE_LOG="$WORK/serve.$SERVE_PORT.log"
    "$KYSO" serve --home "$home" --listen "127.0.0.1:$SERVE_PORT" >"$SERVE_LOG" 2>&1 &
    SERVE_PID=$!
    track_pid "$SERVE_PID"
    deadline=$(($(now_ms) + 15000))
    while (($(now_ms) < deadline)); do
      if ! kill -0 "$SERVE_PID" 2>/dev/null; then
        break
      fi
      if curl -fsS --max-time 1 "$SERVE_URL/healthz" >/dev/null 2>&1; then
        return 0
      fi
      sleep 0.05
    done
    if kill -0 "$SERVE_PID" 2>/dev/null; then
      kill -KILL "$SERVE_PID" 2>/dev/null || true
      wait "$SERVE_PID" 2>/dev/null || true
      fail "kyso serve on port $SERVE_PORT did not answer /healthz within 15 s; log: $(cat "$SERVE_LOG")"
    fi
    wait "$SERVE_PID" 2>/dev/null || true
    if ! grep -qi "address\|in use\|bind" "$SERVE_LOG"; then
      fail "kyso serve exited at start: $(cat "$SERVE_LOG")"
    fi
    note "port $SERVE_PORT was taken, retrying ($attempt)"
  done
  fail "kyso serve could not find a free port"
}

# sql HOME QUERY: one value from the deployment's database.
sql() { sqlite3 -batch -noheader "$1/kyso.db" "$2"; }

cert_rows() { sql "$1" "select count(*) from certificates"; }

# audit_ok HOME: kyso audit verify passes.
audit_ok() {
  local out
  out=$("$KYSO" audit verify --home "$1" 2>&1) || fail "kyso audit verify failed: $out"
  [[ $out == "audit chain intact:"* ]] || fail "kyso audit verify printed unexpected '$out'"
}

# pem_to_der IN OUT; der_hex FILE: lowercase hex of a file, one line.
der_hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# json_get FILE KEY: a top-level string (or null) from a JSON object.
json_get() {
  python3 -c 'import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2])
print("null" if v is None else v)' "$1" "$2"
}

# urlencode_b64 STRING: base64 made safe for a URL path (RFC 5019 section 5).
urlencode_b64() { printf '%s' "$1" | sed -e 's/%/%25/g' -e 's/+/%2B/g' -e 's#/#%2F#g' -e 's/=/%3D/g'; }

# run_kyso ARGS...: runs kyso; sets RC, and OUT/ERR (files, $WORK/last.out and .err) for the
# last run. ok ARGS...: kyso must succeed.
run_kyso() {
  OUT=${OUT:-$WORK/last.out}
  ERR=${ERR:-$WORK/last.err}
  if "$KYSO" "$@" >"$OUT" 2>"$ERR"; then RC=0; else RC=$?; fi
}
ok() {
  run_kyso "$@"
  ((RC == 0)) || fail "kyso $* exited $RC: $(cat "$ERR")"
}

# refused_unchanged HOME LABEL PATTERN ARGS...: kyso ARGS must be refused — exit 1 with one
# `kyso:` line matching PATTERN — and add no certificate, device or device event.
refused_unchanged() {
  local home=$1 label=$2 pattern=$3
  shift 3
  local inventory="select (select count(*) from certificates) || '/' || (select count(*) from devices) || '/' || (select count(*) from device_events)"
  local before
  before=$(sql "$home" "$inventory")
  run_kyso "$@"
  ((RC == 1)) || check_later "$label: expected exit 1, got $RC: $(cat "$OUT" "$ERR")"
  [[ $(grep -c '^kyso: ' "$ERR") == 1 ]] || check_later "$label: not one 'kyso:' line: $(cat "$ERR")"
  grep -q "^kyso: .*$pattern" "$ERR" || check_later "$label: the line does not say '$pattern': $(cat "$ERR")"
  [[ $(sql "$home" "$inventory") == "$before" ]] || check_later "$label: a certificate or device was recorded"
}
