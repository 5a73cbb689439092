# shellcheck shell=bash
# SIM PKI end to end against the MSSP simulator (ETSI TS 102 204), judged by openssl:
#   1. a SIM is certified for an approved request: the subscriber signs the CSR on the phone;
#      the certificate chains to the deployment's root and carries the SIM's key;
#   2. CMS signatures made through the MSSP (detached and attached, synch and
#      asynchClientServer) are accepted by `openssl cms -verify`;
#   3. a refusal on the phone and a phone that never answers each give one clear line, exit 1,
#      and leave nothing: no output file, no certificate, no device;
#   4. R13.1: a SIM that reports its PIN blocked is recorded locked; its recovery request goes
#      to the provider, whose approval gives the SIM back to its holder; it signs again.
#
# usage: bash SimPki_R13_1_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

SIM="$(dirname "$KYSO")/kyso-mssp-simulator"
[[ -x $SIM ]] || fail "the MSSP simulator $SIM is not built"
H="$WORK/home"
D="$WORK/data"
MSSP_STATE="$WORK/mssp"
mkdir -p "$D"
PHONE=84912345678

OUT="$WORK/last.out"
ERR="$WORK/last.err"
refused() { refused_unchanged "$H" "$@"; }

# start_mssp ARGS...: (re)starts the simulator with ARGS; sets MSSP_URL.
MSSP_PID=
start_mssp() {
  if [[ -n $MSSP_PID ]]; then
    kill "$MSSP_PID" 2>/dev/null || true
    wait "$MSSP_PID" 2>/dev/null || true
  fi
  rm -f "$WORK/mssp.port"
  "$SIM" serve --state "$MSSP_STATE" --listen 127.0.0.1:0 --port-file "$WORK/mssp.port" "$@" \
    >>"$WORK/mssp.log" 2>&1 &
  MSSP_PID=$!
  track_pid "$MSSP_PID"
  local deadline=$(($(now_ms) + 10000))
  until [[ -s $WORK/mssp.port ]]; do
    kill -0 "$MSSP_PID" 2>/dev/null || fail "the simulator exited: $(cat "$WORK/mssp.log")"
    (($(now_ms) < deadline)) || fail "the simulator did not start"
    sleep 0.05
  done
  MSSP_URL="http://127.0.0.1:$(cat "$WORK/mssp.port")/mss"
}

# --- deployment, a SIM provisioned by the (simulated) operator ----------------------------
init_home "$H"
ok agency import --home "$H" "$REPO/../shared/domain/demo-agencies.csv"
printf 'mat-khau-thu-nghiem-2026\n' >"$WORK/pw"
for u in "cuc provider" "so authority" "dm focal SKHCN"; do
  read -r name role agency <<<"$u"
  ok user add --home "$H" --name "$name" --role "$role" ${agency:+--agency "$agency"} --password-file "$WORK/pw"
done
ok ca chain --home "$H"
cp "$OUT" "$D/chain.pem"
openssl x509 -in "$D/chain.pem" >"$D/issuing.pem"
awk '/BEGIN/{n++} n==2' "$D/chain.pem" >"$D/root.pem"
"$SIM" init --state "$MSSP_STATE" >"$WORK/sim-init.out" 2>&1 || fail "simulator init: $(cat "$WORK/sim-init.out")"
"$SIM" provision --state "$MSSP_STATE" --msisdn "$PHONE" --key rsa-2048 --out "$D/sim.pub" \
  >"$WORK/prov.out" 2>&1 || fail "simulator provision: $(cat "$WORK/prov.out")"

M01='ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki'
printf '%s\nLê Thị Thu Hà,02/09/1990,075190004321,20/07/2021,Cục Cảnh sát quản lý hành chính về trật tự xã hội,ha.ltt@dongnai.gov.vn,SKHCN.CDS,Đồng Nai,Chuyên viên,%s,,%s\n' \
  "$M01" 0912345678 Viettel >"$D/ha.csv"
ok request file --home "$H" --as dm --kind new-individual --rows "$D/ha.csv"
R1=$(tail -n 1 "$OUT")
ok request decide --home "$H" --as cuc --id "$R1" --approve

# --- 3 (enrolment). a refusal and a timeout on the phone leave nothing -----------------------
start_mssp --behavior refuse
refused "refused on the phone" "từ chối" sim enroll --home "$H" --as cuc --request "$R1" \
  --public-key "$D/sim.pub" --mssp "$MSSP_URL" --phone "$PHONE" --cert-out "$D/ha.pem"
start_mssp --behavior timeout --max-hold-ms 30000
t0=$(now_ms)
refused "no answer from the phone" "Hết thời gian" sim enroll --home "$H" --as cuc --request "$R1" \
  --public-key "$D/sim.pub" --mssp "$MSSP_URL" --phone "$PHONE" --timeout 2 --cert-out "$D/ha.pem"
(($(now_ms) - t0 < 10000)) || check_later "the timeout took $(($(now_ms) - t0)) ms for a 2 s limit"
[[ ! -e $D/ha.pem ]] || check_later "a failed enrolment wrote a certificate"
ok request show --home "$H" --id "$R1" --json
cp "$OUT" "$WORK/r1.json"
[[ $(json_get "$WORK/r1.json" state) == approved ]] || check_later "the request moved after a failed enrolment"

# --- 1. enrolment -----------------------------------------------------------------------------
start_mssp --behavior sign --delay-ms 200
ok sim enroll --home "$H" --as cuc --request "$R1" --public-key "$D/sim.pub" --mssp "$MSSP_URL" \
  --phone "$PHONE" --cert-out "$D/ha.pem"
v=$(openssl verify -CAfile "$D/root.pem" -untrusted "$D/issuing.pem" "$D/ha.pem" 2>&1) ||
  fail "the SIM's certificate does not chain: $v"
cmp -s <(openssl x509 -in "$D/ha.pem" -noout -pubkey) <(openssl pkey -pubin -in "$D/sim.pub") ||
  fail "the certificate does not carry the SIM's key"
ok device show --home "$H" --serial "$PHONE" --json
cp "$OUT" "$WORK/sim.json"
[[ $(json_get "$WORK/sim.json" type) == sim ]] || check_later "device type: $(cat "$OUT")"
[[ $(json_get "$WORK/sim.json" state) == handed_over ]] || check_later "SIM state: $(json_get "$WORK/sim.json" state)"
[[ $(json_get "$WORK/sim.json" operator) == Viettel ]] || check_later "SIM operator"
[[ $(json_get "$WORK/sim.json" holder) == "Lê Thị Thu Hà" ]] || check_later "SIM holder"
note "SIM $PHONE certified; the CSR was signed on the (simulated) phone"

# --- 2. CMS signatures through the MSSP, judged by openssl cms -verify -------------------------
printf 'Quyết định số 45/QĐ-SKHCN ngày 25/11/2026\n' >"$D/doc.txt"
for mode in synch async; do
  ok sign cms "$D/doc.txt" --out "$D/doc.$mode.p7s" --detached --cert "$D/ha.pem" --home "$H" \
    --mssp "$MSSP_URL" --phone "$PHONE" --mss-mode "$mode"
  openssl cms -verify -binary -inform DER -in "$D/doc.$mode.p7s" -content "$D/doc.txt" \
    -CAfile "$D/root.pem" -out /dev/null >"$WORK/cms.out" 2>&1 ||
    fail "openssl cms -verify rejects the $mode SIM signature: $(cat "$WORK/cms.out")"
done
ok sign cms "$D/doc.txt" --home "$H" --out "$D/doc.p7m" --cert "$D/ha.pem" --chain "$D/chain.pem" \
  --mssp "$MSSP_URL" --phone "$PHONE"
openssl cms -verify -binary -inform DER -in "$D/doc.p7m" -CAfile "$D/root.pem" -out "$D/doc.out" \
  >"$WORK/cms.out" 2>&1 || fail "openssl cms -verify rejects the attached SIM signature: $(cat "$WORK/cms.out")"
cmp -s "$D/doc.txt" "$D/doc.out" || fail "the attached content changed"
printf 'Quyết định số 46/QĐ-SKHCN\n' >"$D/other.txt"
if openssl cms -verify -binary -inform DER -in "$D/doc.synch.p7s" -content "$D/other.txt" \
  -CAfile "$D/root.pem" -out /dev/null >/dev/null 2>&1; then
  fail "openssl accepts the SIM signature over another document"
fi
note "CMS through the MSSP: detached synch and async, attached; openssl cms -verify accepts them"

# --- 3 (signing). refusal and timeout write nothing -----------------------------------------
start_mssp --behavior refuse
refused "sign refused on the phone" "từ chối" sign cms "$D/doc.txt" --home "$H" --out "$D/refused.p7s" \
  --cert "$D/ha.pem" --mssp "$MSSP_URL" --phone "$PHONE"
start_mssp --behavior timeout --max-hold-ms 30000
refused "sign never answered" "Hết thời gian" sign cms "$D/doc.txt" --home "$H" --out "$D/late.p7s" --cert "$D/ha.pem" \
  --mssp "$MSSP_URL" --phone "$PHONE" --mss-mode async --timeout 2
cp "$D/doc.synch.p7s" "$D/keep.p7s"
refused "sign over an existing file, never answered" "Hết thời gian" sign cms "$D/doc.txt" --home "$H" \
  --out "$D/keep.p7s" --cert "$D/ha.pem" --mssp "$MSSP_URL" --phone "$PHONE" --timeout 2
cmp -s "$D/doc.synch.p7s" "$D/keep.p7s" || check_later "a failed signature changed an existing output file"
start_mssp --behavior wrong-key
refused "the MSSP answers with another key" "" sign cms "$D/doc.txt" --home "$H" --out "$D/wrong.p7s" \
  --cert "$D/ha.pem" --mssp "$MSSP_URL" --phone "$PHONE"
for f in refused late wrong; do [[ ! -e $D/$f.p7s ]] || check_later "a failed signature wrote $f.p7s"; done
ls -A "$D" | grep -q '^\.' && check_later "a temporary file was left behind: $(ls -A "$D")"

# --- 4. R13.1 for a SIM: locked, routed to the provider, recovered --------------------------
start_mssp --behavior pin-blocked
c0=$(cert_rows "$H")
run_kyso sign cms "$D/doc.txt" --out "$D/blocked.p7s" --cert "$D/ha.pem" --home "$H" \
  --mssp "$MSSP_URL" --phone "$PHONE"
((RC == 1)) && grep -q '^kyso: .*PIN' "$ERR" || check_later "PIN blocked: exit $RC, $(cat "$ERR")"
[[ ! -e $D/blocked.p7s && $(cert_rows "$H") == "$c0" ]] || check_later "PIN blocked: something was written"
ok device show --home "$H" --serial "$PHONE" --json
cp "$OUT" "$WORK/sim.json"
[[ $(json_get "$WORK/sim.json" state) == locked ]] || check_later "R13.1: the blocked SIM is not recorded locked"
ok request file --home "$H" --as dm --kind recover --field device_serial="$PHONE"
RREC=$(tail -n 1 "$OUT")
ok request show --home "$H" --id "$RREC" --json
cp "$OUT" "$WORK/rec.json"
[[ $(json_get "$WORK/rec.json" route) == provider ]] || check_later "R13.1: a SIM's recovery is not routed to the provider"
[[ $(json_get "$WORK/rec.json" exchange_code) == G11.07.05 ]] || check_later "R13.1: exchange code"
run_kyso request decide --home "$H" --as so --id "$RREC" --approve
((RC == 1)) || check_later "the authority decided a SIM recovery"
ok request decide --home "$H" --as cuc --id "$RREC" --approve
grep -q "request $RREC fulfilled" "$OUT" || check_later "the SIM recovery is not fulfilled on approval: $(cat "$OUT")"
ok device show --home "$H" --serial "$PHONE" --json
cp "$OUT" "$WORK/sim.json"
[[ $(json_get "$WORK/sim.json" state) == handed_over ]] || check_later "the recovered SIM is not back with its holder"
start_mssp --behavior sign
ok sign cms "$D/doc.txt" --home "$H" --out "$D/after.p7s" --detached --cert "$D/ha.pem" --chain "$D/issuing.pem" \
  --mssp "$MSSP_URL" --phone "$PHONE"
openssl cms -verify -binary -inform DER -in "$D/after.p7s" -content "$D/doc.txt" -CAfile "$D/root.pem" \
  -out /dev/null >"$WORK/cms.out" 2>&1 ||
  check_later "the recovered SIM's signature does not verify: $(cat "$WORK/cms.out")"

audit_ok "$H"
finish_checks
pass "SIM enrolment, CMS via MSSP (synch, async, attached), refusal, timeout, wrong key, R13.1 via the provider"
