#!/usr/bin/env bash
# bench/devices.sh — key storage devices (issue 4): what enrolment and SIM PKI signing cost.
#
# 1. Token enrolment: N blank SoftHSM2 tokens enrolled with `kyso token enroll` (personalise,
#    RSA-2048 key pair on the token, CSR signed there, issue, write the certificate and both CA
#    certificates back, record the device), against the same token work done with OpenSC's
#    pkcs11-tool alone (init-token, init-pin, keypairgen rsa:2048, write the certificate):
#    the physical floor on this machine is the token's RSA-2048 key generation.
# 2. Signing a file as CMS: M signatures with `kyso sign cms` through the MSSP simulator (SOAP
#    over HTTP, delay 0, synch) against M with `kyso sign cms` on a PKI Token (SoftHSM2), and
#    against `openssl cms -sign` with a software key (the peer). All three pay one process
#    start per signature; the ratio shows what the MSS round trip adds.
#
# Environment: BUILD (default <repo>/build-bench), N (10), M (100), KYSO_BENCH_KEEP=1.
# Prints "RESULT key value" lines for bench/run.sh.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
KYSO=$BUILD/kyso
SIM=$BUILD/kyso-mssp-simulator
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
N=${N:-10}
M=${M:-100}
for tool in "$KYSO" "$SIM" openssl pkcs11-tool python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "devices.sh: $tool not found" >&2; exit 1; }
done

T=$(mktemp -d "${KYSO_BENCH_TMP:-/tmp}/kyso-bench-devices.XXXXXX")
SIM_PID=""
cleanup() {
  [[ -n $SIM_PID ]] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  [[ -n ${KYSO_BENCH_KEEP:-} ]] || rm -rf "$T"
}
trap cleanup EXIT
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

H=$T/home
"$KYSO" init --home "$H" >/dev/null
"$KYSO" agency import --home "$H" "$REPO/../shared/domain/demo-agencies.csv" >/dev/null
printf 'bench-password-2026\n' >"$T/pw"
"$KYSO" user add --home "$H" --name cuc --role provider --password-file "$T/pw" >/dev/null
"$KYSO" user add --home "$H" --name dm --role focal --agency SKHCN --password-file "$T/pw" >/dev/null
export SOFTHSM2_CONF=$H/softhsm2.conf

# --- 1. enrolment ---------------------------------------------------------------------------
{
  echo 'ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki'
  for i in $(seq "$N"); do
    printf 'Người Thử %d,12/04/1988,0751880%05d,20/07/2021,Cục Cảnh sát QLHC về TTXH,t%d@dongnai.gov.vn,SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,\n' "$i" "$i" "$i"
  done
} >"$T/rows.csv"
id=$("$KYSO" request file --home "$H" --as dm --kind new-individual --rows "$T/rows.csv" | tail -n 1)
"$KYSO" request decide --home "$H" --as cuc --id "$id" --approve >/dev/null
t0=$(now)
for i in $(seq "$N"); do
  "$KYSO" token enroll --home "$H" --as cuc --request "$id" --module "$SOFTHSM" --token-label "k$i" \
    --pin-out "$T/k$i.pin" >/dev/null
done
t1=$(now)
kyso_enrol_ms=$(($(ms "$t0" "$t1") / N))
serial=$("$KYSO" request show --home "$H" --id "$id" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["certificate_serials"][0])')
"$KYSO" cert show --home "$H" --serial "$serial" --pem >"$T/cert.pem"
openssl x509 -in "$T/cert.pem" -outform DER -out "$T/cert.der"

free_slot() {
  pkcs11-tool --module "$SOFTHSM" -L 2>/dev/null | python3 -c 'import re, sys
slots = re.split(r"\n(?=Slot )", sys.stdin.read())
print(next(re.search(r"\((0x[0-9a-f]+)\)", s).group(1) for s in slots if "uninitialized" in s))'
}
p11_total=0
p11_keygen_total=0
for i in $(seq "$N"); do
  slot=$(free_slot) # found outside the timing: kyso looks its slot up too, but cheaply
  a=$(now)
  pkcs11-tool --module "$SOFTHSM" --slot "$slot" --init-token --label "p$i" --so-pin so-bench-1234 >/dev/null 2>&1
  pkcs11-tool --module "$SOFTHSM" --token-label "p$i" --login --login-type so --so-pin so-bench-1234 \
    --init-pin --new-pin 12345678 >/dev/null 2>&1
  b=$(now)
  pkcs11-tool --module "$SOFTHSM" --token-label "p$i" --login --pin 12345678 --keypairgen \
    --key-type rsa:2048 --id 01 --label kyso-key >/dev/null 2>&1
  c=$(now)
  pkcs11-tool --module "$SOFTHSM" --token-label "p$i" --login --pin 12345678 --write-object "$T/cert.der" \
    --type cert --id 01 --label cert >/dev/null 2>&1
  d=$(now)
  p11_total=$((p11_total + d - a))
  p11_keygen_total=$((p11_keygen_total + c - b))
done
p11_enrol_ms=$((p11_total / N / 1000000))
keygen_ms=$((p11_keygen_total / N / 1000000))
echo "RESULT enrol_kyso_ms $kyso_enrol_ms"
echo "RESULT enrol_pkcs11tool_ms $p11_enrol_ms"
echo "RESULT enrol_keygen_ms $keygen_ms"

# --- 2. CMS signatures: SIM PKI via the MSSP simulator, PKI Token, openssl --------------------
"$SIM" init --state "$T/mssp" >/dev/null
"$SIM" provision --state "$T/mssp" --msisdn 84912345678 --key rsa-2048 --out "$T/sim.pub" >/dev/null
# The SIM's certificate, for the bench only: certified by kyso from the SIM's public key.
printf 'ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki\nNgười Ký SIM,12/04/1988,075188099999,20/07/2021,Cục Cảnh sát QLHC về TTXH,sim@dongnai.gov.vn,SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,Viettel\n' >"$T/sim.csv"
sid=$("$KYSO" request file --home "$H" --as dm --kind new-individual --rows "$T/sim.csv" | tail -n 1)
"$KYSO" request decide --home "$H" --as cuc --id "$sid" --approve >/dev/null
"$SIM" serve --state "$T/mssp" --listen 127.0.0.1:0 --port-file "$T/mssp.port" >"$T/mssp.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 200); do [[ -s $T/mssp.port ]] && break; sleep 0.05; done
URL="http://127.0.0.1:$(cat "$T/mssp.port")/mss"
"$KYSO" sim enroll --home "$H" --as cuc --request "$sid" --public-key "$T/sim.pub" --mssp "$URL" \
  --phone 84912345678 --cert-out "$T/sim.pem" >/dev/null
head -c 100000 /dev/urandom >"$T/doc.bin"

t0=$(now)
for i in $(seq "$M"); do
  "$KYSO" sign cms "$T/doc.bin" --out "$T/s.p7s" --detached --cert "$T/sim.pem" --mssp "$URL" \
    --phone 84912345678 >/dev/null
done
t1=$(now)
for i in $(seq "$M"); do
  "$KYSO" sign cms "$T/doc.bin" --out "$T/t.p7s" --detached --cert "$T/cert.pem" --module "$SOFTHSM" \
    --token-label k1 --pin-file "$T/k1.pin" >/dev/null
done
t2=$(now)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/sw.key" -subj /CN=sw -days 30 -out "$T/sw.pem" 2>/dev/null
for i in $(seq "$M"); do
  openssl cms -sign -binary -in "$T/doc.bin" -signer "$T/sw.pem" -inkey "$T/sw.key" -outform DER \
    -out "$T/o.p7s" -md sha256
done
t3=$(now)
echo "RESULT sign_sim_ms $(awk -v a="$(ms "$t0" "$t1")" -v m="$M" 'BEGIN{printf "%.1f", a/m}')"
echo "RESULT sign_token_ms $(awk -v a="$(ms "$t1" "$t2")" -v m="$M" 'BEGIN{printf "%.1f", a/m}')"
echo "RESULT sign_openssl_ms $(awk -v a="$(ms "$t2" "$t3")" -v m="$M" 'BEGIN{printf "%.1f", a/m}')"
openssl cms -verify -binary -inform DER -in "$T/s.p7s" -content "$T/doc.bin" -noverify -out /dev/null 2>/dev/null ||
  { echo "devices.sh: the SIM signature does not verify" >&2; exit 1; }
