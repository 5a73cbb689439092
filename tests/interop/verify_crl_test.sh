# A certificate kyso issues verifies with `openssl verify -crl_check_all` against kyso's chain
# and both CRLs, and is rejected once revoked. The subject carries Vietnamese text byte-exact,
# the SAN the e-mail, and the serial is 20 octets with the top bit clear.
# Run twice: on an EC P-256 deployment and on the default (RSA) deployment.
#
# usage: bash verify_crl_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

NAME='Nguyễn Thị Hồng Nhung'
ORG='Sở Khoa học và Công nghệ'
UNIT='Phòng Bưu chính'
EMAIL='nhung.nt@dongnai.gov.vn'

# crl_pem HOME ISSUER OUT: kyso crl, converted to PEM for openssl verify.
crl_pem() {
  local home=$1 issuer=$2 out=$3
  "$KYSO" crl --home "$home" --issuer "$issuer" --out "$out.der" >"$WORK/crl.out" 2>&1 ||
    fail "kyso crl --issuer $issuer failed: $(cat "$WORK/crl.out")"
  openssl crl -inform DER -in "$out.der" -out "$out" 2>"$WORK/crl.err" ||
    fail "openssl cannot parse the $issuer CRL from kyso crl: $(cat "$WORK/crl.err")"
}

run_case() {
  local label=$1
  shift
  local dir="$WORK/$label" home="$WORK/$label/home"
  mkdir -p "$dir"
  init_home "$home" "$@"
  note "$label: deployment created ($(grep -E '^(root|issuing|ocsp)_key' "$home/kyso.toml" | tr -d "'" | tr '\n' ' '))"

  "$KYSO" ca chain --home "$home" >"$dir/chain.pem" 2>"$dir/chain.err" ||
    fail "$label: kyso ca chain failed: $(cat "$dir/chain.err")"
  [[ $(grep -c 'BEGIN CERTIFICATE' "$dir/chain.pem") -eq 2 ]] ||
    fail "$label: kyso ca chain should print 2 certificates, got: $(cat "$dir/chain.pem")"

  make_csr "$dir/leaf.csr" ec
  local serial
  serial=$("$KYSO" cert issue --home "$home" --profile individual --csr "$dir/leaf.csr" \
    --name "$NAME" --email "$EMAIL" --org "$ORG" --unit "$UNIT" --out "$dir/leaf.pem" \
    2>"$dir/issue.err") || fail "$label: kyso cert issue failed: $(cat "$dir/issue.err")"
  [[ -s $dir/leaf.pem ]] || fail "$label: kyso cert issue wrote no certificate"

  # --- serial: 20 octets, top bit clear, and the one kyso printed.
  [[ $serial =~ ^[0-9a-f]{40}$ ]] ||
    fail "$label: kyso printed serial '$serial', expected 40 lowercase hex digits (20 octets)"
  local x509_serial
  x509_serial=$(openssl x509 -in "$dir/leaf.pem" -noout -serial)
  x509_serial=${x509_serial#serial=}
  [[ ${x509_serial,,} == "$serial" ]] ||
    fail "$label: certificate serial $x509_serial differs from printed serial $serial"
  # The DER INTEGER itself: 20 content octets, first octet 0x01..0x7f.
  local int_line
  int_line=$(openssl asn1parse -in "$dir/leaf.pem" | grep -m1 'd=2 .*prim: INTEGER')
  [[ $int_line == *"l=  20 prim: INTEGER"* ]] ||
    fail "$label: serialNumber is not a 20-octet INTEGER: $int_line"
  local first=$((16#${serial:0:2}))
  ((first >= 0x01 && first <= 0x7f)) ||
    fail "$label: serial $serial: first octet 0x${serial:0:2} (top bit set, or a leading zero octet)"

  # --- subject: Vietnamese UTF-8, byte-exact.
  local subject expected
  subject=$(openssl x509 -in "$dir/leaf.pem" -noout -subject -nameopt utf8)
  expected="subject=C=VN, ST=Đồng Nai, O=$ORG, OU=$UNIT, CN=$NAME, emailAddress=$EMAIL"
  if [[ $subject != "$expected" ]]; then
    printf 'got:      %s\n          %s\nexpected: %s\n          %s\n' "$subject" \
      "$(printf '%s' "$subject" | od -An -tx1 | tr -d '\n')" "$expected" \
      "$(printf '%s' "$expected" | od -An -tx1 | tr -d '\n')" >&2
    fail "$label: subject is not byte-exact"
  fi
  # Name parts are UTF8String (a T61String or BMPString would print the same but is not allowed).
  local asn1
  asn1=$(openssl asn1parse -in "$dir/leaf.pem")
  local part
  for part in "$NAME" "$ORG" "$UNIT"; do
    grep -qF "UTF8STRING        :$part" <<<"$asn1" ||
      fail "$label: '$part' is not encoded as a UTF8String: $(grep -F 'STRING' <<<"$asn1" | head -20)"
  done

  # --- SAN: the e-mail, and nothing else.
  local san
  san=$(openssl x509 -in "$dir/leaf.pem" -noout -ext subjectAltName | sed -n 2p | tr -d ' ')
  [[ $san == "email:$EMAIL" ]] || fail "$label: SAN is '$san', expected 'email:$EMAIL'"

  # --- kyso cert show agrees.
  "$KYSO" cert show --home "$home" --serial "$serial" --json >"$dir/show.json" 2>"$dir/show.err" ||
    fail "$label: kyso cert show failed: $(cat "$dir/show.err")"
  [[ $(json_get "$dir/show.json" status) == good ]] ||
    fail "$label: kyso cert show: status is not good: $(cat "$dir/show.json")"
  [[ $(json_get "$dir/show.json" serial) == "$serial" ]] ||
    fail "$label: kyso cert show: serial differs: $(cat "$dir/show.json")"
  [[ $(json_get "$dir/show.json" profile) == individual ]] ||
    fail "$label: kyso cert show: profile is not individual: $(cat "$dir/show.json")"
  grep -qF "$NAME" "$dir/show.json" ||
    fail "$label: kyso cert show: subject does not carry the name as UTF-8: $(cat "$dir/show.json")"

  # --- openssl verify with both CRLs: accepted.
  crl_pem "$home" issuing "$dir/issuing.crl.pem"
  crl_pem "$home" root "$dir/root.crl.pem"
  local out
  if ! out=$(openssl verify -crl_check_all -CAfile "$dir/chain.pem" -CRLfile "$dir/issuing.crl.pem" \
    -CRLfile "$dir/root.crl.pem" -purpose smimesign "$dir/leaf.pem" 2>&1); then
    fail "$label: openssl verify -crl_check_all rejects a fresh certificate: $out"
  fi
  [[ $out == "$dir/leaf.pem: OK" ]] || fail "$label: openssl verify said '$out'"
  # Both CRLs are checked against their issuers' keys (openssl verify would already have
  # complained; this makes the signature check explicit).
  openssl crl -in "$dir/issuing.crl.pem" -noout -CAfile "$dir/chain.pem" 2>&1 | grep -q 'verify OK' ||
    fail "$label: issuing CRL signature does not verify"
  openssl crl -in "$dir/root.crl.pem" -noout -CAfile "$dir/chain.pem" 2>&1 | grep -q 'verify OK' ||
    fail "$label: root CRL signature does not verify"

  # --- revoke, then the fresh CRL makes openssl reject it.
  "$KYSO" cert revoke --home "$home" --serial "$serial" --reason keyCompromise >"$dir/revoke.out" \
    2>&1 || fail "$label: kyso cert revoke failed: $(cat "$dir/revoke.out")"
  "$KYSO" cert show --home "$home" --serial "$serial" --json >"$dir/show2.json" 2>&1 ||
    fail "$label: kyso cert show after revoke failed: $(cat "$dir/show2.json")"
  [[ $(json_get "$dir/show2.json" status) == revoked ]] ||
    fail "$label: kyso cert show after revoke: $(cat "$dir/show2.json")"
  [[ $(json_get "$dir/show2.json" revocation_reason) == keyCompromise ]] ||
    fail "$label: kyso cert show: revocation_reason: $(cat "$dir/show2.json")"

  # kyso cert revoke publishes a CRL itself: the newest stored issuing CRL lists the serial.
  sql "$home" "select hex(der) from crls where issuer='issuing' order by number desc limit 1" |
    python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' \
      >"$dir/published.crl.der"
  openssl crl -inform DER -in "$dir/published.crl.der" -noout -text >"$dir/published.txt" 2>&1 ||
    fail "$label: CRL published by kyso cert revoke does not parse"
  grep -qi "Serial Number: $serial" "$dir/published.txt" ||
    fail "$label: CRL published by kyso cert revoke does not list $serial: $(cat "$dir/published.txt")"

  crl_pem "$home" issuing "$dir/issuing2.crl.pem"
  openssl crl -in "$dir/issuing2.crl.pem" -noout -text >"$dir/crl2.txt"
  grep -qi "Serial Number: $serial" "$dir/crl2.txt" || fail "$label: fresh CRL does not list $serial"
  grep -q "Key Compromise" "$dir/crl2.txt" ||
    fail "$label: fresh CRL lacks reason Key Compromise: $(cat "$dir/crl2.txt")"
  # CRL numbers must increase.
  local n1 n2
  n1=$(openssl crl -in "$dir/issuing.crl.pem" -noout -crlnumber)
  n2=$(openssl crl -in "$dir/issuing2.crl.pem" -noout -crlnumber)
  ((16#${n2#crlNumber=0x} > 16#${n1#crlNumber=0x})) ||
    fail "$label: CRL number did not increase ($n1 then $n2)"

  if out=$(openssl verify -crl_check_all -CAfile "$dir/chain.pem" -CRLfile "$dir/issuing2.crl.pem" \
    -CRLfile "$dir/root.crl.pem" "$dir/leaf.pem" 2>&1); then
    fail "$label: openssl verify accepts a revoked certificate: $out"
  fi
  grep -q "certificate revoked" <<<"$out" ||
    fail "$label: openssl verify failed, but not with 'certificate revoked': $out"

  audit_ok "$home"
  note "$label: ok (serial $serial)"
}

run_case ec --root-key ec-p256 --issuing-key ec-p256 --ocsp-key ec-p256
run_case rsa-default --defaults
pass "EC P-256 and default RSA deployments"
