# Requests kyso must refuse: each exits 1 with exactly one line `kyso: <reason>` on stderr,
# prints nothing on stdout, writes no --out file and stores no certificate row; the audit chain
# stays intact. Every case is run; all failures are listed at the end.
#
# usage: bash refusals_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

HOME_DIR="$WORK/home"
init_home "$HOME_DIR"
C="$WORK/csr"
mkdir -p "$C"

# --- the requests.
make_csr "$C/good.pem" ec
openssl req -in "$C/good.pem" -outform DER -out "$C/good.der"

# flip_byte IN OUT OFFSET_FROM_END: copy with one byte XOR 0x01, counted from the end.
flip_byte() {
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) - int(sys.argv[3])] ^= 0x01
open(sys.argv[2], "wb").write(data)
EOF
}
# The last byte of a DER CSR lies inside the signature BIT STRING (ECDSA: the last octet of s;
# RSA: the last octet of the signature value). Check that, then flip it.
sig_is_last() { # sig_is_last DER: the last element of the outer SEQUENCE is the BIT STRING
  openssl asn1parse -inform DER -in "$1" | tail -1 | grep -q 'd=1 .*prim: BIT STRING'
}
sig_is_last "$C/good.der" || fail "test setup: EC CSR does not end with its signature"
flip_byte "$C/good.der" "$C/badsig-ec.der" 1
make_csr "$C/rsa2048.pem" rsa:2048
openssl req -in "$C/rsa2048.pem" -outform DER -out "$C/rsa2048.der"
sig_is_last "$C/rsa2048.der" || fail "test setup: RSA CSR does not end with its signature"
flip_byte "$C/rsa2048.der" "$C/badsig-rsa.der" 1
flip_byte "$C/rsa2048.der" "$C/badsig-rsa-mid.der" 100
# A changed byte in the signed part (the subject's 'x') breaks the signature too.
python3 - "$C/good.der" "$C/tampered.der" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
i = data.index(b"\x0c\x01x") if b"\x0c\x01x" in data else data.index(b"\x13\x01x")
data[i + 2] = ord("y")
open(sys.argv[2], "wb").write(data)
EOF
make_csr "$C/rsa1024.pem" rsa:1024
make_csr "$C/sha1-ec.pem" ec -sha1
make_csr "$C/sha1-rsa.pem" rsa:2048 -sha1
make_csr "$C/sha1-pss.pem" "key=$C/rsa2048.pem.key" -sha1 -sigopt rsa_padding_mode:pss \
  -sigopt rsa_pss_saltlen:20
openssl req -in "$C/sha1-pss.pem" -noout -text | grep -q 'Hash Algorithm: sha1' ||
  fail "test setup: could not make an RSA-PSS/SHA-1 CSR"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -keyout "$C/k1.key" \
  -subj /CN=x -out "$C/secp256k1.pem" 2>/dev/null
head -c 1500 /dev/urandom >"$C/random.bin"
# > 64 KiB: a valid PEM CSR behind 70 000 bytes of text (PEM readers skip text before BEGIN).
{ head -c 70000 /dev/zero | tr '\0' 'a'; echo; cat "$C/good.pem"; } >"$C/oversized.pem"
# A DER CSR followed by one more byte.
{ cat "$C/good.der"; printf '\0'; } >"$C/trailing.der"
: >"$C/empty.der"

LONG_NAME=$(python3 -c 'print(("Nguyễn Thị Hồng Nhung " * 4)[:65])') # 65 characters, 80+ bytes
[[ $(python3 -c 'import sys; print(len(sys.argv[1]))' "$LONG_NAME") -eq 65 ]] || fail "test setup: LONG_NAME"
NAME_64=${LONG_NAME:0:64}

FAILURES=()
CASES=0

# refuse LABEL [overrides...] -- runs kyso cert issue with good defaults overridden by
# --csr/--name/--email/--org/--profile/--days/--unit given after the label.
refuse() {
  local label=$1
  shift
  local csr="$C/good.pem" name='Lê Văn Tám' email='tam.lv@dongnai.gov.vn' org='Sở Nội vụ'
  local profile=individual extra=()
  while [[ $# -gt 0 ]]; do
    case $1 in
      --csr) csr=$2 ;; --name) name=$2 ;; --email) email=$2 ;; --org) org=$2 ;;
      --profile) profile=$2 ;; *) extra+=("$1" "$2") ;;
    esac
    shift 2
  done
  CASES=$((CASES + 1))
  local before after rc=0 out="$WORK/out-$CASES.pem"
  before=$(cert_rows "$HOME_DIR")
  "$KYSO" cert issue --home "$HOME_DIR" --profile "$profile" --csr "$csr" --name "$name" \
    --email "$email" --org "$org" "${extra[@]+"${extra[@]}"}" --out "$out" \
    >"$WORK/stdout" 2>"$WORK/stderr" || rc=$?
  after=$(cert_rows "$HOME_DIR")
  local problems=()
  [[ $rc -eq 1 ]] || problems+=("exit $rc, expected 1")
  [[ $(wc -l <"$WORK/stderr") -eq 1 ]] || problems+=("stderr has $(wc -l <"$WORK/stderr") lines")
  [[ $(head -c 6 "$WORK/stderr") == "kyso: " ]] || problems+=("stderr does not start with 'kyso: '")
  [[ ! -s $WORK/stdout ]] || problems+=("stdout: $(head -c 200 "$WORK/stdout")")
  [[ ! -e $out ]] || problems+=("wrote $out")
  [[ $before == "$after" ]] || problems+=("certificates rows $before -> $after")
  if ((${#problems[@]})); then
    FAILURES+=("$label: $(IFS=';'; echo "${problems[*]}") [stderr: $(head -c 300 "$WORK/stderr" | tr '\n' '|')]")
    echo "  not refused properly: $label: ${problems[*]}"
  else
    echo "  refused: $label -> $(cat "$WORK/stderr")"
  fi
}

# The control: the good request is accepted (so refusals are about the one thing changed).
ROWS_INIT=$(cert_rows "$HOME_DIR") # kyso init records the CA certificates themselves
serial=$("$KYSO" cert issue --home "$HOME_DIR" --profile individual --csr "$C/good.pem" --name 'Lê Văn Tám' \
  --email tam.lv@dongnai.gov.vn --org 'Sở Nội vụ' --out "$WORK/control.pem" 2>"$WORK/control.err") ||
  fail "the control request was refused: $(cat "$WORK/control.err")"
ROWS0=$(cert_rows "$HOME_DIR")
[[ $ROWS0 -eq $((ROWS_INIT + 1)) ]] || fail "expected $((ROWS_INIT + 1)) certificate rows after the control, have $ROWS0"
note "control issued $serial"

refuse "CSR signature fails (EC, last octet of s flipped, DER)" --csr "$C/badsig-ec.der"
refuse "CSR signature fails (RSA, last signature octet flipped, DER)" --csr "$C/badsig-rsa.der"
refuse "CSR signature fails (RSA, signature octet in the middle flipped)" --csr "$C/badsig-rsa-mid.der"
refuse "CSR signed part tampered (CN changed after signing)" --csr "$C/tampered.der"
refuse "RSA-1024 CSR" --csr "$C/rsa1024.pem"
refuse "SHA-1-signed CSR (ecdsa-with-SHA1)" --csr "$C/sha1-ec.pem"
refuse "SHA-1-signed CSR (sha1WithRSAEncryption)" --csr "$C/sha1-rsa.pem"
refuse "SHA-1-signed CSR (RSASSA-PSS with SHA-1)" --csr "$C/sha1-pss.pem"
refuse "CSR on a curve outside P-256/P-384 (secp256k1)" --csr "$C/secp256k1.pem"
refuse "--days 2000 (over 5 years)" --days 2000
refuse "--days 1827 (one day over 5 years)" --days 1827
refuse "--days 0" --days 0
refuse "unknown profile" --profile citizen
refuse "malformed CSR (random bytes)" --csr "$C/random.bin"
refuse "empty CSR file" --csr "$C/empty.der"
refuse "DER CSR with trailing data" --csr "$C/trailing.der"
refuse "oversized CSR (> 64 KiB file)" --csr "$C/oversized.pem"
refuse "CSR file missing" --csr "$C/does-not-exist.pem"
refuse "bad e-mail (no @)" --email tam.lv.dongnai.gov.vn
refuse "bad e-mail (two @)" --email 'tam@lv@dongnai.gov.vn'
refuse "bad e-mail (no dot in domain)" --email tam@localhost
refuse "bad e-mail (non-ASCII)" --email 'tâm@dongnai.gov.vn'
refuse "name longer than 64 characters (65, UTF-8)" --name "$LONG_NAME"
refuse "empty name" --name ''
refuse "name with a newline" --name $'Lê Văn\nTám'
refuse "name with a C1 control (U+0085)" --name $'Lê Văn\xc2\x85Tám'
refuse "name with a right-to-left override (U+202E)" --name $'Lê Văn \xe2\x80\xaeTám'
refuse "name not UTF-8 (Latin-1 bytes)" --name $'L\xea V\xe3n'
refuse "organization longer than 64 characters" --org "$LONG_NAME"
refuse "four units (levels 2..5)" --unit a --unit b --unit c --unit d

# Boundary: 64 characters (but 80+ bytes of UTF-8) is accepted.
rows=$(cert_rows "$HOME_DIR")
"$KYSO" cert issue --home "$HOME_DIR" --profile individual --csr "$C/good.pem" --name "$NAME_64" \
  --email tam.lv@dongnai.gov.vn --org 'Sở Nội vụ' --out "$WORK/n64.pem" >/dev/null 2>"$WORK/n64.err" ||
  FAILURES+=("a 64-character name ($(printf '%s' "$NAME_64" | wc -c) bytes) was refused: $(cat "$WORK/n64.err")")
[[ $(cert_rows "$HOME_DIR") -eq $((rows + 1)) ]] || FAILURES+=("the 64-character name stored no row")
# Boundary: exactly 5 years is accepted (--days 1826 from today).
rows=$(cert_rows "$HOME_DIR")
five_years=$(python3 -c 'import datetime as d
t = d.datetime.now(d.timezone.utc)
try: u = t.replace(year=t.year + 5)
except ValueError: u = t.replace(year=t.year + 5, day=28)
print((u - t).days)')
"$KYSO" cert issue --home "$HOME_DIR" --profile individual --csr "$C/good.pem" --name 'Lê Văn Tám' \
  --email tam.lv@dongnai.gov.vn --org 'Sở Nội vụ' --days "$five_years" --out "$WORK/5y.pem" >/dev/null \
  2>"$WORK/5y.err" || FAILURES+=("--days $five_years (exactly 5 years) was refused: $(cat "$WORK/5y.err")")

# Batch: a manifest with one unusable CSR is refused as a whole, before anything is stored.
mkdir -p "$WORK/batch-out"
printf '%s,A,a@dongnai.gov.vn,O\n%s,B,b@dongnai.gov.vn,O\n%s,C,c@dongnai.gov.vn,O\n' \
  "$C/good.pem" "$C/sha1-ec.pem" "$C/good.pem" >"$WORK/manifest.csv"
rows=$(cert_rows "$HOME_DIR")
rc=0
"$KYSO" cert issue-batch --home "$HOME_DIR" --profile individual --manifest "$WORK/manifest.csv" \
  --out-dir "$WORK/batch-out" >"$WORK/batch.out" 2>"$WORK/batch.err" || rc=$?
[[ $rc -eq 1 && $(wc -l <"$WORK/batch.err") -eq 1 && $(cert_rows "$HOME_DIR") -eq $rows &&
  -z $(ls -A "$WORK/batch-out") ]] ||
  FAILURES+=("issue-batch with a SHA-1 CSR in row 2: rc $rc, rows $rows -> $(cert_rows "$HOME_DIR"), files $(ls "$WORK/batch-out" | wc -l), stderr: $(cat "$WORK/batch.err")")
echo "  refused: issue-batch manifest with a SHA-1 CSR in row 2 -> $(cat "$WORK/batch.err")"

# Batch: a bad subject in one row refuses the whole manifest too, naming the line.
printf 'csr,name,email,org\n%s,A,a@dongnai.gov.vn,O\n%s,B,not-an-email,O\n%s,C,c@dongnai.gov.vn,O\n' \
  "$C/good.pem" "$C/good.pem" "$C/good.pem" >"$WORK/manifest2.csv"
rc=0
"$KYSO" cert issue-batch --home "$HOME_DIR" --profile individual --manifest "$WORK/manifest2.csv" \
  --out-dir "$WORK/batch-out" >"$WORK/batch2.out" 2>"$WORK/batch2.err" || rc=$?
[[ $rc -eq 1 && $(wc -l <"$WORK/batch2.err") -eq 1 && $(cert_rows "$HOME_DIR") -eq $rows &&
  -z $(ls -A "$WORK/batch-out") ]] && grep -q 'manifest line 3' "$WORK/batch2.err" ||
  FAILURES+=("issue-batch with a bad e-mail on line 3: rc $rc, rows $rows -> $(cert_rows "$HOME_DIR"), stderr: $(cat "$WORK/batch2.err")")
echo "  refused: issue-batch manifest with a bad e-mail on line 3 -> $(cat "$WORK/batch2.err")"

audit_ok "$HOME_DIR"

if ((${#FAILURES[@]})); then
  printf 'FAIL: %s\n' "${FAILURES[@]}" >&2
  fail "${#FAILURES[@]} of $CASES refusal cases (plus boundaries/batch) misbehaved"
fi
pass "$CASES refusals"
