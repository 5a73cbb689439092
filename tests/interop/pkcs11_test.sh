# The deployment's keys as pkcs11-tool sees them, on a default (RSA) deployment: the four CA
# private keys (root, issuing, OCSP, TSA) exist, are sensitive and never extractable, are
# hidden without login, and cannot be read out. The user PIN lives only in secrets/user.pin (0600, folder 0700) and appears in no
# configuration, database or output.
#
# usage: bash pkcs11_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
command -v pkcs11-tool >/dev/null || fail "pkcs11-tool (opensc) is not installed"
[[ -r $KYSO_SOFTHSM_MODULE ]] || fail "SoftHSM2 module $KYSO_SOFTHSM_MODULE not found"

HOME_DIR="$WORK/home"
OUT="$WORK/outputs" # every byte kyso printed, to search for the PIN at the end
mkdir -p "$OUT"

# k NAME ARGS...: run kyso, keep its stdout and stderr in $OUT/NAME.{out,err}.
k() {
  local name=$1
  shift
  "$KYSO" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" ||
    fail "kyso $* failed: $(cat "$OUT/$name.err")"
}

k init init --home "$HOME_DIR" # the defaults: RSA keys
grep -q "^root_key = 'rsa-4096'" "$HOME_DIR/kyso.toml" ||
  fail "default root key is not rsa-4096: $(grep _key "$HOME_DIR/kyso.toml")"
note "default deployment created"

PIN_FILE="$HOME_DIR/secrets/user.pin"
[[ -f $PIN_FILE ]] || fail "no $PIN_FILE"
PIN=$(head -n1 "$PIN_FILE")
[[ ${#PIN} -ge 16 ]] || fail "user PIN is only ${#PIN} characters"

# --- file modes.
mode() { stat -c %a "$1"; }
[[ $(mode "$PIN_FILE") == 600 ]] || fail "secrets/user.pin has mode $(mode "$PIN_FILE"), expected 600"
[[ $(mode "$HOME_DIR/secrets") == 700 ]] || fail "secrets/ has mode $(mode "$HOME_DIR/secrets"), expected 700"
for f in "$HOME_DIR"/secrets/*; do
  [[ $(mode "$f") == 600 ]] || fail "$f has mode $(mode "$f"), expected 600"
done
[[ $(mode "$HOME_DIR/tokens") == 700 ]] || fail "tokens/ has mode $(mode "$HOME_DIR/tokens"), expected 700"

# --- the token, through pkcs11-tool.
p11() {
  SOFTHSM2_CONF="$HOME_DIR/softhsm2.conf" pkcs11-tool --module "$KYSO_SOFTHSM_MODULE" \
    --token-label kyso-ca "$@"
}
p11 --login --pin "$PIN" --list-objects >"$WORK/objects.txt" 2>&1 ||
  fail "pkcs11-tool --list-objects with the user PIN failed: $(cat "$WORK/objects.txt")"

# privkey_block LABEL: the lines of the private key object with that label.
privkey_block() {
  awk -v label="$1" '
    /^[A-Z][a-z]+ Key Object|^[A-Z][a-zA-Z ]+Object/ { inpriv = ($0 ~ /^Private Key Object/); block = $0 "\n"; next }
    { block = block $0 "\n" }
    inpriv && $1 == "label:" && $2 == label { found = 1 }
    inpriv && found && $1 == "Access:" { printf "%s", block; exit }
  ' "$WORK/objects.txt"
}
n_priv=$(grep -c '^Private Key Object' "$WORK/objects.txt" || true)
[[ $n_priv -eq 4 ]] || fail "expected 4 private keys on the token, found $n_priv: $(cat "$WORK/objects.txt")"
for label in kyso-root kyso-issuing kyso-ocsp kyso-tsa; do
  block=$(privkey_block "$label")
  [[ -n $block ]] || fail "no private key labelled $label: $(cat "$WORK/objects.txt")"
  access=$(grep 'Access:' <<<"$block")
  [[ $access == *"never extractable"* ]] || fail "$label is not 'never extractable': $access"
  [[ $access =~ (^|[:,] *)sensitive ]] || fail "$label is not 'sensitive': $access"
  [[ $access == *"always sensitive"* ]] || fail "$label is not 'always sensitive': $access"
  [[ $access == *local* ]] || fail "$label was not generated on the token ('local' missing): $access"
  # "extractable" may only appear inside "never extractable".
  [[ ${access//never extractable/} != *extractable* ]] || fail "$label is extractable: $access"
  usage=$(grep 'Usage:' <<<"$block")
  [[ $usage == *sign* && $usage != *decrypt* && $usage != *unwrap* ]] ||
    fail "$label should only sign: $usage"
  note "$label: $access"
done
# The AES key that wraps the SO PIN must not leave the token either.
wrap=$(awk '/^Secret Key Object/{s=1} s&&/label:/&&$2=="kyso-wrap"{f=1} s&&f&&/Access:/{print;exit}' "$WORK/objects.txt")
[[ $wrap == *"never extractable"* && $wrap == *sensitive* ]] || fail "kyso-wrap key access: '$wrap'"

# Without login, no private key (nor the AES key) is even visible.
p11 --list-objects >"$WORK/objects-nologin.txt" 2>&1 || true
! grep -q '^Private Key Object\|^Secret Key Object' "$WORK/objects-nologin.txt" ||
  fail "private objects visible without login: $(cat "$WORK/objects-nologin.txt")"

# Reading a private key out must fail: no key material written, the token says SENSITIVE.
for label in kyso-issuing kyso-root kyso-ocsp kyso-tsa; do
  rm -f "$WORK/priv.der"
  rc=0
  p11 --login --pin "$PIN" --read-object --type privkey --label "$label" -o "$WORK/priv.der" \
    >"$WORK/read.txt" 2>&1 || rc=$?
  if [[ -s $WORK/priv.der ]]; then
    fail "pkcs11-tool read out private key $label ($(stat -c %s "$WORK/priv.der") bytes, rc $rc)"
  fi
  grep -q "CKR_ATTRIBUTE_SENSITIVE\|not (yet) supported\|error\|failed" "$WORK/read.txt" ||
    fail "reading $label: pkcs11-tool did not report a refusal: $(cat "$WORK/read.txt")"
  note "read-object privkey $label refused (rc $rc): $(tr '\n' ' ' <"$WORK/read.txt")"
done

# The same, straight through the Cryptoki API: flags, CKA_VALUE/CKA_PRIVATE_EXPONENT reads and
# C_WrapKey under a wrapping key of our own are all refused.
SOFTHSM2_CONF="$HOME_DIR/softhsm2.conf" python3 "$(dirname "$0")/p11probe.py" "$KYSO_SOFTHSM_MODULE" \
  kyso-ca "$PIN_FILE" kyso-root kyso-issuing kyso-ocsp kyso-tsa >"$WORK/probe.txt" 2>&1 ||
  fail "Cryptoki probe: $(cat "$WORK/probe.txt")"
while read -r line; do note "probe: $line"; done <"$WORK/probe.txt"

# --- exercise kyso, collecting every output, then look for the PIN.
make_csr "$WORK/a.csr" rsa:2048
k issue cert issue --home "$HOME_DIR" --profile organization --csr "$WORK/a.csr" --name 'Văn phòng UBND tỉnh' \
  --email vanphong@dongnai.gov.vn --org 'UBND tỉnh Đồng Nai' --out "$WORK/a.pem"
serial=$(cat "$OUT/issue.out")
k chain ca chain --home "$HOME_DIR"
k show cert show --home "$HOME_DIR" --serial "$serial" --json
k crl crl --home "$HOME_DIR" --out "$WORK/i.crl"
k revoke cert revoke --home "$HOME_DIR" --serial "$serial" --reason superseded
k recover ca recover --home "$HOME_DIR" --min-age 0
k audit audit verify --home "$HOME_DIR"
# A refusal and a bad-usage error also print nothing secret.
"$KYSO" cert issue --home "$HOME_DIR" --profile nope --csr "$WORK/a.csr" --name x --email x@y.vn \
  --org o --out "$WORK/b.pem" >"$OUT/refuse.out" 2>"$OUT/refuse.err" && fail "unknown profile accepted"
"$KYSO" cert issue --home "$HOME_DIR" >"$OUT/usage.out" 2>"$OUT/usage.err" && fail "missing flags accepted"
"$KYSO" --help >"$OUT/help.out" 2>&1 || true
# serve: start, query, stop; its log is output too.
start_serve "$HOME_DIR"
curl -sS "$SERVE_URL/healthz" >"$OUT/healthz.out"
for f in /proc/"$SERVE_PID"/cmdline /proc/"$SERVE_PID"/environ; do
  if [[ -r $f ]] && tr '\0' '\n' <"$f" | grep -qF "$PIN"; then fail "the PIN is in $f of kyso serve"; fi
done
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "serve exited non-zero on SIGTERM"
cp "$SERVE_LOG" "$OUT/serve.log"
# A wrong PIN (through the KYSO_CA_PIN override) is refused with one line that does not echo it.
WRONG=0123456789abcdef0123456789abcdef
if KYSO_CA_PIN=$WRONG "$KYSO" crl --home "$HOME_DIR" --out "$WORK/x.crl" >"$OUT/wrongpin.out" 2>"$OUT/wrongpin.err"; then
  fail "kyso accepted a wrong PIN"
fi
[[ $(wc -l <"$OUT/wrongpin.err") -eq 1 && $(head -c6 "$OUT/wrongpin.err") == "kyso: " ]] ||
  fail "wrong PIN: expected one 'kyso: ...' line, got: $(cat "$OUT/wrongpin.err")"
! grep -qF "$WRONG" "$OUT/wrongpin.err" "$OUT/wrongpin.out" || fail "kyso echoed the (wrong) PIN it was given"
note "wrong PIN refused: $(cat "$OUT/wrongpin.err")"

leaks=()
for f in "$OUT"/* "$HOME_DIR"/kyso.toml "$HOME_DIR"/kyso.db "$HOME_DIR"/kyso.db-wal "$HOME_DIR"/kyso.db-shm \
  "$HOME_DIR"/softhsm2.conf "$HOME_DIR"/secrets/so.pin.wrapped; do
  [[ -e $f ]] || continue
  if grep -aqF "$PIN" "$f"; then leaks+=("$f"); fi
done
# Also the database contents as text (in case a page is compressed or split differently).
if sqlite3 "$HOME_DIR/kyso.db" .dump | grep -qF "$PIN"; then leaks+=("kyso.db dump"); fi
[[ ${#leaks[@]} -eq 0 ]] || fail "the user PIN appears in: ${leaks[*]}"
# The only file under the home holding the PIN is secrets/user.pin.
mapfile -t holders < <(grep -rlaF "$PIN" "$HOME_DIR" || true)
[[ ${#holders[@]} -eq 1 && ${holders[0]} == "$PIN_FILE" ]] || fail "files holding the PIN: ${holders[*]}"

audit_ok "$HOME_DIR"
pass
