# shellcheck shell=bash
# Key storage devices end to end, judged by OpenSC's pkcs11-tool and openssl:
#   1. enrolment of a blank token for an approved request: pkcs11-tool lists the certificate
#      and a sensitive, never-extractable private key with the same ID; pkcs11-tool --sign
#      makes a signature that openssl verifies with the issued certificate, which chains to
#      the deployment's root;
#   2. R13.1: with the locking test module (tests/p11lock, SoftHSM2 plus a wrong-PIN counter
#      as hardware has), three wrong PINs lock the token, kyso reports it locked and the
#      inventory follows; a recover request goes to the authority; `kyso token unblock`
#      restores it; the old key signs with the new PIN and the old PIN is dead;
#   3. a token in its factory state: its factory SO PIN is replaced at enrolment;
#   4. refusals change nothing (no certificate, no device, no PIN file);
#   3b. an enrolment killed after the token was initialised, or at key generation, finishes on
#      a second run: the SO PIN kyso chose was kept before the token changed;
#   5. R12.3: after revocation the device is due back, overdue later, and its return makes a
#      Mẫu 08 record linked to the handover request; the provider restocks it and it is
#      re-enrolled for someone else with nothing of the old key left;
#   6. no PIN appears in the audit log or the device records.
#
# usage: bash devices_R12_3_R13_1_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

command -v pkcs11-tool >/dev/null || fail "pkcs11-tool (OpenSC) is not installed"
P11LOCK="$(dirname "$KYSO")/libkyso-p11lock.so"
[[ -f $P11LOCK ]] || fail "the locking test module $P11LOCK is not built"
SOFTHSM=$KYSO_SOFTHSM_MODULE
H="$WORK/home"
D="$WORK/data"
mkdir -p "$D"
export KYSO_P11LOCK_MAX_TRIES=3

OUT="$WORK/last.out"
ERR="$WORK/last.err"
refused() { refused_unchanged "$H" "$@"; }
# p11 MODULE ARGS...: pkcs11-tool on the deployment's SoftHSM2 tokens.
p11() { SOFTHSM2_CONF="$H/softhsm2.conf" pkcs11-tool --module "$@"; }
device_field() { # device_field SERIAL KEY
  ok device show --home "$H" --serial "$1" --json
  cp "$OUT" "$WORK/device.json"
  json_get "$WORK/device.json" "$2"
}
# sign_and_verify MODULE LABEL PIN CERT: pkcs11-tool signs with the token's key, openssl
# verifies with the certificate's public key.
sign_and_verify() {
  local module=$1 label=$2 pin=$3 cert=$4
  printf 'Công văn số 123/SKHCN ngày 25/11/2026\n' >"$WORK/doc.txt"
  p11 "$module" --token-label "$label" --login --pin "$pin" --sign -m SHA256-RSA-PKCS \
    --label kyso-key -i "$WORK/doc.txt" -o "$WORK/doc.sig" >"$WORK/sign.out" 2>&1 ||
    fail "pkcs11-tool --sign on $label failed: $(cat "$WORK/sign.out")"
  openssl x509 -in "$cert" -noout -pubkey >"$WORK/pub.pem"
  openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/doc.sig" "$WORK/doc.txt" \
    >"$WORK/verify.out" 2>&1 || fail "openssl does not verify the token's signature: $(cat "$WORK/verify.out")"
}

# --- deployment, people, an approved request waiting for its device -----------------------
init_home "$H"
ok agency import --home "$H" "$REPO/../shared/domain/demo-agencies.csv"
printf 'mat-khau-thu-nghiem-2026\n' >"$WORK/pw"
for u in "cuc provider" "so authority" "dm focal SKHCN" "dm_snv focal SNV"; do
  read -r name role agency <<<"$u"
  ok user add --home "$H" --name "$name" --role "$role" ${agency:+--agency "$agency"} --password-file "$WORK/pw"
done
ok ca chain --home "$H"
cp "$OUT" "$D/chain.pem"
M01='ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki'
new_request() { # new_request NAME CCCD EMAIL: filed by the focal person, approved by the provider
  printf '%s\n%s,12/04/1988,%s,20/07/2021,Cục Cảnh sát quản lý hành chính về trật tự xã hội,%s,SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,\n' \
    "$M01" "$1" "$2" "$3" >"$D/rows-$2.csv"
  ok request file --home "$H" --as dm --kind new-individual --rows "$D/rows-$2.csv"
  local id
  id=$(tail -n 1 "$OUT")
  ok request decide --home "$H" --as cuc --id "$id" --approve
  grep -q "request $id approved" "$OUT" || fail "request $id: $(cat "$OUT")"
  echo "$id"
}
R1=$(new_request "Nguyễn Thị Hồng Nhung" 075188001234 nhung@dongnai.gov.vn)

# --- 4 (first part). refusals before anything is touched ----------------------------------
refused "enrol as the focal person" "R15.2" token enroll --home "$H" --as dm --request "$R1" \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/x.pin"
touch "$D/exists.pin"
refused "enrol over an existing PIN file" "exists" token enroll --home "$H" --as cuc --request "$R1" \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/exists.pin"
refused "enrol for an unknown request" "no request" token enroll --home "$H" --as cuc --request 999 \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/x.pin"
refused "enrol with --pin-out in a missing folder" "pin-out" token enroll --home "$H" --as cuc --request "$R1" \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/no-such-folder/x.pin"
[[ ! -e $D/x.pin ]] || check_later "a refused enrolment wrote a PIN file"
[[ $(sql "$H" "select count(*) from pending_so_pins") == 0 ]] || check_later "a refused enrolment kept an SO PIN"
SOFTHSM2_CONF="$H/softhsm2.conf" pkcs11-tool --module "$SOFTHSM" -L 2>/dev/null | grep -q "token label *: nhung" &&
  check_later "a refused enrolment initialised the token"

# --- 1. enrolment of a blank token ---------------------------------------------------------
ok token enroll --home "$H" --as cuc --request "$R1" --module "$P11LOCK" --token-label nhung \
  --pin-out "$D/nhung.pin"
grep -q "enrolled for request $R1" "$OUT" || fail "enrol said: $(cat "$OUT")"
[[ $(stat -c %a "$D/nhung.pin") == 600 ]] || check_later "the PIN file is not mode 0600"
PIN1=$(cat "$D/nhung.pin")
[[ $PIN1 =~ ^[0-9]{8}$ ]] || fail "the holder's PIN is not 8 digits"
grep -q "$PIN1" "$OUT" "$ERR" && check_later "the PIN was printed although --pin-out was given"
ok request show --home "$H" --id "$R1" --json
cp "$OUT" "$WORK/r1.json"
[[ $(json_get "$WORK/r1.json" state) == fulfilled ]] || check_later "request $R1 is not fulfilled"
CERT1=$(json_get "$WORK/r1.json" certificate_serial)
ok cert show --home "$H" --serial "$CERT1" --pem
cp "$OUT" "$D/nhung.pem"
TOKEN1=$(sql "$H" "select serial from devices where certificate_serial = '$CERT1'")
[[ -n $TOKEN1 ]] || fail "no device holds certificate $CERT1"
[[ $(device_field "$TOKEN1" state) == personalised ]] || check_later "device is not personalised"
[[ $(json_get "$WORK/device.json" holder) == "Nguyễn Thị Hồng Nhung" ]] || check_later "holder: $(cat "$WORK/device.json")"
[[ $(json_get "$WORK/device.json" token_label) == nhung ]] || check_later "token_label"
[[ $(json_get "$WORK/device.json" agency) == SKHCN ]] || check_later "agency"

# The judge: OpenSC's pkcs11-tool.
p11 "$SOFTHSM" --token-label nhung --login --pin "$PIN1" --list-objects >"$WORK/objects.txt" 2>&1 ||
  fail "pkcs11-tool --list-objects: $(cat "$WORK/objects.txt")"
python3 - "$WORK/objects.txt" "$CERT1" <<'EOF' || fail "pkcs11-tool's view of the token is wrong"
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
serial = sys.argv[2].upper()
objs = re.split(r"\n(?=\S)", text)
def field(o, name):
    m = re.search(r"^\s+" + name + r":\s+(.*)$", o, re.M)
    return m.group(1).strip() if m else None
privs = [o for o in objs if o.startswith("Private Key Object")]
certs = [o for o in objs if o.startswith("Certificate Object") and serial in (field(o, "serial") or "").upper()]
if len(privs) != 1 or len(certs) != 1:
    sys.exit(f"expected one private key and the certificate {serial}:\n{text}")
access = field(privs[0], "Access") or ""
for flag in ("sensitive", "never extractable"):
    if flag not in access:
        sys.exit(f"private key access is '{access}', missing '{flag}'")
if field(privs[0], "ID") != field(certs[0], "ID"):
    sys.exit(f"key ID {field(privs[0], 'ID')} != certificate ID {field(certs[0], 'ID')}")
cas = [o for o in objs if o.startswith("Certificate Object") and o not in certs]
if len(cas) != 2 or len({field(o, "ID") for o in cas + certs}) != 3:
    sys.exit("the CA certificates are missing or share an ID with the key")
EOF
sign_and_verify "$SOFTHSM" nhung "$PIN1" "$D/nhung.pem"
v=$(openssl verify -partial_chain -CAfile "$D/chain.pem" "$D/nhung.pem" 2>&1) || check_later "chain: $v"
note "enrolled token $TOKEN1: pkcs11-tool sees key and certificate with one ID; openssl verifies its signature"

# A second enrolment for the same request is refused: every row has its certificate.
refused "enrol a fulfilled request" "" token enroll --home "$H" --as cuc --request "$R1" \
  --module "$P11LOCK" --token-label other --pin-out "$D/y.pin"

# --- 2. R13.1: lock, report, recover, unblock ----------------------------------------------
ok device move --home "$H" --as dm --serial "$TOKEN1" --to handed_over --field receiver="Nguyễn Thị Hồng Nhung"
for i in 1 2 3; do
  if p11 "$P11LOCK" --token-label nhung --login --pin 00000000 --list-objects >"$WORK/wrong.$i" 2>&1; then
    fail "wrong PIN $i was accepted"
  fi
done
grep -q "CKR_PIN_LOCKED" "$WORK/wrong.3" || check_later "the third wrong PIN did not lock: $(cat "$WORK/wrong.3")"
if p11 "$P11LOCK" --token-label nhung --login --pin "$PIN1" --list-objects >"$WORK/locked.txt" 2>&1; then
  fail "a locked token accepted the right PIN"
fi
ok token status --home "$H" --as dm --module "$P11LOCK" --token-label nhung --json
cp "$OUT" "$WORK/status.json"
[[ $(json_get "$WORK/status.json" user_pin) == locked ]] || fail "kyso does not report the token locked: $(cat "$OUT")"
[[ $(json_get "$WORK/status.json" device_state) == locked ]] || check_later "status: device_state not locked"
[[ $(device_field "$TOKEN1" state) == locked ]] || check_later "the inventory does not show the token locked"
ok device list --home "$H" --state locked --json
grep -q "\"serial\": \"$TOKEN1\"" "$OUT" || check_later "device list --state locked misses the token"

ok request file --home "$H" --as dm --kind recover --serial "$CERT1"
RREC=$(tail -n 1 "$OUT")
ok request show --home "$H" --id "$RREC" --json
cp "$OUT" "$WORK/rec.json"
[[ $(json_get "$WORK/rec.json" route) == authority ]] || check_later "R13.1: a token's recovery is not routed to the authority"
refused "provider decides a token recovery" "R9.1" request decide --home "$H" --as cuc --id "$RREC" --approve
refused "unblock before approval" "R13.1" token unblock --home "$H" --as so --request "$RREC" \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/z.pin"
ok request decide --home "$H" --as so --id "$RREC" --approve
refused "provider unblocks" "R9.1" token unblock --home "$H" --as cuc --request "$RREC" \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/z.pin"
[[ ! -e $D/z.pin ]] || check_later "a refused unblock wrote a PIN file"
ok token unblock --home "$H" --as so --request "$RREC" --module "$P11LOCK" --token-label nhung \
  --pin-out "$D/nhung2.pin"
PIN2=$(cat "$D/nhung2.pin")
[[ $PIN2 != "$PIN1" ]] || fail "the new PIN is the old one"
ok token status --home "$H" --module "$P11LOCK" --token-label nhung --json
cp "$OUT" "$WORK/status2.json"
[[ $(json_get "$WORK/status2.json" user_pin) == ok ]] || check_later "after unblock: $(cat "$OUT")"
sign_and_verify "$P11LOCK" nhung "$PIN2" "$D/nhung.pem" # the old key, the new PIN
if p11 "$P11LOCK" --token-label nhung --login --pin "$PIN1" --list-objects >/dev/null 2>&1; then
  check_later "the old PIN still works after the unblock"
fi
[[ $(device_field "$TOKEN1" state) == handed_over ]] || check_later "after unblock the device is not back with its holder"
[[ $(json_get "$WORK/device.json" certificate_serial) == "$CERT1" ]] || check_later "the certificate changed"
ok request show --home "$H" --id "$RREC" --json
cp "$OUT" "$WORK/rec.json"
[[ $(json_get "$WORK/rec.json" state) == fulfilled ]] || check_later "the recover request is not fulfilled"
refused "unblock twice" "R13.1" token unblock --home "$H" --as so --request "$RREC" \
  --module "$P11LOCK" --token-label nhung --pin-out "$D/w.pin"
note "R13.1: locked after 3 wrong PINs, recovered through the authority, same key, new PIN"

# --- 3. a token in its factory state --------------------------------------------------------
printf 'factory-so-1234\n' >"$D/factory.so"
# pkcs11-tool --init-token without --slot re-initialises the first token it finds: name the
# free slot.
FREE_SLOT=$(p11 "$SOFTHSM" -L 2>/dev/null | python3 -c 'import re, sys
slots = re.split(r"\n(?=Slot )", sys.stdin.read())
print(next(re.search(r"\((0x[0-9a-f]+)\)", s).group(1) for s in slots if "uninitialized" in s))')
p11 "$SOFTHSM" --slot "$FREE_SLOT" --init-token --label factory --so-pin factory-so-1234 >"$WORK/factory.out" 2>&1 ||
  fail "pkcs11-tool --init-token: $(cat "$WORK/factory.out")"
R2=$(new_request "Trần Văn An" 075188001235 an.tv@dongnai.gov.vn)
refused "factory token without its SO PIN" "so-pin-file" token enroll --home "$H" --as cuc --request "$R2" \
  --module "$P11LOCK" --token-label factory --pin-out "$D/an.pin"
printf 'wrong-so-pin\n' >"$D/wrong.so"
refused "factory token with a wrong SO PIN" "security officer" token enroll --home "$H" --as cuc \
  --request "$R2" --module "$P11LOCK" --token-label factory --so-pin-file "$D/wrong.so" --pin-out "$D/an.pin"
ok token enroll --home "$H" --as cuc --request "$R2" --module "$P11LOCK" --token-label factory \
  --so-pin-file "$D/factory.so" --pin-out "$D/an.pin"
if p11 "$SOFTHSM" --token-label factory --login --login-type so --so-pin factory-so-1234 --list-objects \
  >/dev/null 2>&1; then
  check_later "the factory SO PIN still works after enrolment"
fi
ok request show --home "$H" --id "$R2" --json
cp "$OUT" "$WORK/r2.json"
ok cert show --home "$H" --serial "$(json_get "$WORK/r2.json" certificate_serial)" --pem
cp "$OUT" "$D/an.pem"
sign_and_verify "$SOFTHSM" factory "$(cat "$D/an.pin")" "$D/an.pem"
note "factory token: SO PIN replaced, key and certificate in place"

# --- 3b. interrupted enrolments lose nothing -------------------------------------------------
# Killed after C_InitToken (the token has kyso's new SO PIN, no user PIN yet), and killed at key
# generation (the device is recorded): a second run finishes with the SO PIN kyso kept.
for crash in C_InitPIN C_GenerateKeyPair; do
  R=$(new_request "Người Thử $crash" "07518800$((${#crash} + 1000))" "thu.$crash@dongnai.gov.vn")
  rc=0
  KYSO_P11LOCK_CRASH_AT=$crash "$KYSO" token enroll --home "$H" --as cuc --request "$R" --module "$P11LOCK" \
    --token-label "crash-$crash" --pin-out "$D/crash-$crash.pin" >"$OUT" 2>"$ERR" || rc=$?
  ((rc == 137)) || fail "the enrolment was not interrupted at $crash (exit $rc): $(cat "$ERR")"
  rm -f "$D/crash-$crash.pin"
  ok token enroll --home "$H" --as cuc --request "$R" --module "$P11LOCK" --token-label "crash-$crash" \
    --pin-out "$D/crash-$crash.pin"
  ok request show --home "$H" --id "$R" --json
  cp "$OUT" "$WORK/crash.json"
  [[ $(json_get "$WORK/crash.json" state) == fulfilled ]] || check_later "after a crash at $crash: not fulfilled"
  ok cert show --home "$H" --serial "$(json_get "$WORK/crash.json" certificate_serial)" --pem
  cp "$OUT" "$D/crash.pem"
  sign_and_verify "$SOFTHSM" "crash-$crash" "$(cat "$D/crash-$crash.pin")" "$D/crash.pem"
done
[[ $(sql "$H" "select count(*) from pending_so_pins") == 0 ]] || check_later "a pending SO PIN was left behind"
note "enrolments killed at C_InitPIN and at C_GenerateKeyPair finish on a second run"

# --- 5. R12.3: revocation, return deadline, Mẫu 08 ------------------------------------------
ok request file --home "$H" --as dm --kind revoke --serial "$CERT1" --reason key-exposed
RREV=$(tail -n 1 "$OUT")
ok request decide --home "$H" --as cuc --id "$RREV" --approve
due=$(device_field "$TOKEN1" return_due)
[[ $due =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}$ ]] || check_later "R12.3: no return deadline after revocation: $(cat "$WORK/device.json")"
[[ $(json_get "$WORK/device.json" overdue) == False ]] || check_later "R12.3: overdue on the day of revocation"
refused "a focal person of another agency moves the token" "R15.2" device move --home "$H" --as dm_snv \
  --serial "$TOKEN1" --to returned_to_agency
refused "return to the provider before the agency" "chỉ chuyển được sang" device move --home "$H" --as dm \
  --serial "$TOKEN1" --to returned_to_provider --field receiver=Cục
ok device move --home "$H" --as dm --serial "$TOKEN1" --to returned_to_agency
refused "Mẫu 08 without its receiver" "receiver" device move --home "$H" --as dm --serial "$TOKEN1" \
  --to returned_to_provider
ok device move --home "$H" --as dm --serial "$TOKEN1" --to returned_to_provider \
  --field "receiver=Cục Chứng thực số và Bảo mật thông tin" --field so_bien_ban=08/2026
ok device show --home "$H" --serial "$TOKEN1" --json
python3 - "$OUT" "$CERT1" <<'EOF' || check_later "R12.3: the Mẫu 08 record is incomplete"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
rec = d["history"][-1]
assert rec["form"] == "mau08", rec
assert rec["certificate_serial"] == sys.argv[2], rec
assert rec["holder"] == "Nguyễn Thị Hồng Nhung" and rec["agency"] == "SKHCN", rec
assert rec["receiver"].startswith("Cục Chứng thực số"), rec
assert rec["fields"]["so_bien_ban"] == "08/2026", rec
assert rec["request"] is not None, rec
EOF
REQ08=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["history"][-1]["request"])' "$OUT")
ok request show --home "$H" --id "$REQ08" --json
cp "$OUT" "$WORK/r08.json"
[[ $(json_get "$WORK/r08.json" kind) == handover ]] || check_later "Mẫu 08 links request $REQ08, not the handover"
ok device list --home "$H" --overdue --json
[[ $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT") == 0 ]] ||
  check_later "a returned device is still listed overdue"

# The provider wipes the returned token and it goes back to stock; a new holder gets it, with
# nothing of the old key left on it.
refused "a focal person restocks a token" "R15.2" device move --home "$H" --as dm --serial "$TOKEN1" --to in_stock
ok device move --home "$H" --as cuc --serial "$TOKEN1" --to in_stock
R3=$(new_request "Đỗ Văn Khoa" 075188001236 khoa.dv@dongnai.gov.vn)
ok token enroll --home "$H" --as cuc --request "$R3" --module "$P11LOCK" --token-label nhung --pin-out "$D/khoa.pin"
[[ $(device_field "$TOKEN1" holder) == "Đỗ Văn Khoa" ]] || check_later "the restocked token's new holder"
p11 "$SOFTHSM" --token-label nhung --login --pin "$(cat "$D/khoa.pin")" --list-objects >"$WORK/objects2.txt" 2>&1
[[ $(grep -c '^Private Key Object' "$WORK/objects2.txt") == 1 ]] || check_later "the old key is still on the re-used token"
grep -q "$CERT1" <(tr 'A-F' 'a-f' <"$WORK/objects2.txt") && check_later "the old certificate is still on the re-used token"

# --- 6. no PIN in the records ----------------------------------------------------------------
for pin in "$PIN1" "$PIN2" "$(cat "$D/an.pin")" factory-so-1234; do
  n=$(sql "$H" "select (select count(*) from audit_events where payload like '%$pin%' or object like '%$pin%')
                     + (select count(*) from device_events where extra like '%$pin%' or reason like '%$pin%')")
  [[ $n == 0 ]] || check_later "a PIN appears in the records"
done
audit_ok "$H"
finish_checks
pass "enrol, lock after 3 wrong PINs, recover, factory SO PIN, Mẫu 08; judged by pkcs11-tool and openssl"
