#!/usr/bin/env bash
# make demo: a demo deployment under ./demo — CA hierarchy on a SoftHSM2 token created there,
# SQLite database, a few issued certificates and one revoked — served on loopback.
# The first run creates it; later runs serve what is there. `rm -rf demo` starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
KYSO=./build/kyso
DEMO=${KYSO_DEMO_HOME:-demo}
PORT=${KYSO_DEMO_PORT:-8080}
URL="http://127.0.0.1:${PORT}"

if [[ ! -f "$DEMO/kyso.toml" ]]; then
  echo "== creating the demo deployment in $DEMO"
  "$KYSO" init --home "$DEMO" --public-url "$URL"
  mkdir -p "$DEMO/subscribers"
  chmod 700 "$DEMO/subscribers"
  # Demo subscribers. Their keys are software keys made here for the demo only; real
  # subscribers' keys are generated on their PKI Token or SIM PKI.
  issue() {  # issue NAME PROFILE CN EMAIL ORG [UNIT]
    local id=$1 profile=$2 cn=$3 email=$4 org=$5 unit=${6:-}
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$DEMO/subscribers/$id.key" -subj "/CN=$id" -out "$DEMO/subscribers/$id.csr" 2>/dev/null
    local args=(cert issue --home "$DEMO" --profile "$profile" --csr "$DEMO/subscribers/$id.csr"
                --name "$cn" --email "$email" --org "$org" --out "$DEMO/subscribers/$id.pem")
    [[ -n $unit ]] && args+=(--unit "$unit")
    "$KYSO" "${args[@]}"
  }
  issue nhung individual "Nguyễn Thị Hồng Nhung" nhung.nth@dongnai.gov.vn \
    "Sở Khoa học và Công nghệ" "Phòng Bưu chính, Viễn thông và Chuyển đổi số" >/dev/null
  issue tuan individual "Trần Minh Tuấn" tuan.tm@dongnai.gov.vn "Ủy ban nhân dân tỉnh Đồng Nai" \
    "Văn phòng Ủy ban nhân dân tỉnh" >/dev/null
  issue skhcn organization "Sở Khoa học và Công nghệ tỉnh Đồng Nai" skhcn@dongnai.gov.vn \
    "Ủy ban nhân dân tỉnh Đồng Nai" >/dev/null
  issue iocdn device "Trung tâm Giám sát điều hành đô thị thông minh" ioc@dongnai.gov.vn \
    "Sở Khoa học và Công nghệ" >/dev/null
  lost=$(issue hoa individual "Lê Thị Hoa" hoa.lt@dongnai.gov.vn "Sở Nội vụ")
  "$KYSO" cert revoke --home "$DEMO" --serial "$lost" --reason keyCompromise >/dev/null
  "$KYSO" ca chain --home "$DEMO" > "$DEMO/chain.pem"
  awk '/BEGIN/{n++} n==1' "$DEMO/chain.pem" > "$DEMO/issuing.pem"
  awk '/BEGIN/{n++} n==2' "$DEMO/chain.pem" > "$DEMO/root.pem"
  echo "== issued 5 certificates in $DEMO/subscribers, revoked $lost (keyCompromise)"

  # The registration workflow: the province's agencies, one user per role, requests in every state.
  "$KYSO" agency import --home "$DEMO" ../shared/domain/demo-agencies.csv
  : > "$DEMO/demo-users.txt"
  chmod 600 "$DEMO/demo-users.txt"
  adduser() {  # adduser NAME ROLE [AGENCY]
    local pw
    pw=$(openssl rand -base64 12 | tr -d '/+=' | cut -c1-12)
    printf '%s\n' "$pw" > "$DEMO/.pw"
    "$KYSO" user add --home "$DEMO" --name "$1" --role "$2" ${3:+--agency "$3"} --password-file "$DEMO/.pw" >/dev/null
    rm -f "$DEMO/.pw"
    printf '%-12s %-10s %-8s %s\n' "$1" "$2" "${3:--}" "$pw" >> "$DEMO/demo-users.txt"
  }
  adduser cuc provider
  adduser so_khcn authority
  adduser dm_skhcn focal SKHCN
  adduser dm_snv focal SNV
  adduser kiemtoan auditor
  adduser quantri admin
  adduser nhung subscriber SKHCN.CDS

  mau01() {  # mau01 FILE NAME CCCD EMAIL AGENCY CSR
    printf 'ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki,csr\n' > "$1"
    printf '%s,15/03/1985,%s,10/05/2021,Cục Cảnh sát QLHC về TTXH,%s,%s,Đồng Nai,Chuyên viên,0912345678,,,%s\n' \
      "$2" "$3" "$4" "$5" "$6" >> "$1"
  }
  key() {  # key ID: a subscriber key and CSR (demo only; real keys are made on the token)
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$DEMO/subscribers/$1.key" -subj "/CN=$1" -out "$DEMO/subscribers/$1.csr" 2>/dev/null
  }
  file() { "$KYSO" request file --home "$DEMO" "$@" | tail -n 1; }
  DEMO_ABS=$(cd "$DEMO" && pwd)
  W=$DEMO/requests
  mkdir -p "$W"
  # fulfilled, then renewed (fulfilled) and closed
  key lan
  mau01 "$W/lan.csv" "Phạm Thị Lan" 075190000111 lan.pt@dongnai.gov.vn SKHCN.CDS "$DEMO_ABS/subscribers/lan.csr"
  id=$(file --as dm_skhcn --kind new-individual --rows "$W/lan.csv")
  "$KYSO" request decide --home "$DEMO" --as cuc --id "$id" --approve >/dev/null
  "$KYSO" request close --home "$DEMO" --as cuc --id "$id" >/dev/null
  # submitted: waiting for the provider
  key binh
  mau01 "$W/binh.csv" "Võ Văn Bình" 075190000112 binh.vv@dongnai.gov.vn SKHCN.VP "$DEMO_ABS/subscribers/binh.csr"
  file --as dm_skhcn --kind new-individual --rows "$W/binh.csv" >/dev/null
  # approved: no CSR yet, waiting for the PKI Token to be enrolled
  mau01 "$W/hanh.csv" "Đặng Thị Hạnh" 075190000113 hanh.dt@dongnai.gov.vn SNV ""
  id=$(file --as dm_snv --kind new-individual --rows "$W/hanh.csv")
  "$KYSO" request decide --home "$DEMO" --as cuc --id "$id" --approve >/dev/null
  # rejected
  key quang
  mau01 "$W/quang.csv" "Hoàng Minh Quang" 075190000114 quang.hm@dongnai.gov.vn SNV "$DEMO_ABS/subscribers/quang.csr"
  id=$(file --as dm_snv --kind new-individual --rows "$W/quang.csv")
  "$KYSO" request decide --home "$DEMO" --as cuc --id "$id" --reject --reason "Thiếu văn bản đề nghị có chữ ký của thủ trưởng" >/dev/null
  # cancelled
  id=$(file --as dm_snv --kind new-individual --rows "$W/quang.csv")
  "$KYSO" request cancel --home "$DEMO" --as dm_snv --id "$id" >/dev/null
  # a revocation (fulfilled) that leaves a device-return obligation (handover, submitted, R12.3)
  key minh
  mau01 "$W/minh.csv" "Bùi Quang Minh" 075190000115 minh.bq@dongnai.gov.vn SKHCN.CDS "$DEMO_ABS/subscribers/minh.csr"
  id=$(file --as dm_skhcn --kind new-individual --rows "$W/minh.csv")
  "$KYSO" request decide --home "$DEMO" --as cuc --id "$id" --approve >/dev/null
  serial=$("$KYSO" request show --home "$DEMO" --id "$id" --json | sed -n 's/.*"certificate_serial": "\([0-9a-f]*\)".*/\1/p')
  id=$(file --as dm_skhcn --kind revoke --serial "$serial" --reason device-lost)
  "$KYSO" request decide --home "$DEMO" --as cuc --id "$id" --approve >/dev/null

  # Key storage devices (docs/devices.md). PKI Tokens here are SoftHSM2 tokens beside the CA's
  # (the demo's softhsm2.conf); the one that locks goes through the test module that adds a
  # wrong-PIN counter, as hardware has. Holders' PINs are kept in subscribers/ for the demo.
  SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
  P11LOCK=./build/libkyso-p11lock.so
  waiting() {  # waiting FILE NAME CCCD EMAIL [SIM_OPERATOR]: an approved request without a CSR
    printf 'ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki\n' > "$1"
    printf '%s,15/03/1985,%s,10/05/2021,Cục Cảnh sát QLHC về TTXH,%s,SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,%s\n' \
      "$2" "$3" "$4" "${5:-}" >> "$1"
    local id
    id=$(file --as dm_skhcn --kind new-individual --rows "$1")
    "$KYSO" request decide --home "$DEMO" --as cuc --id "$id" --approve >/dev/null
    echo "$id"
  }
  # a token enrolled and handed over
  id=$(waiting "$W/tung.csv" "Trương Văn Tùng" 075190000116 tung.tv@dongnai.gov.vn)
  "$KYSO" token enroll --home "$DEMO" --as cuc --request "$id" --module "$SOFTHSM" --token-label tung \
    --pin-out "$DEMO/subscribers/tung.pin" >/dev/null
  tok=$(SOFTHSM2_CONF="$DEMO/softhsm2.conf" "$KYSO" token status --module "$SOFTHSM" --token-label tung --json |
        sed -n 's/.*"serial": "\([0-9a-f]*\)".*/\1/p')
  "$KYSO" device move --home "$DEMO" --as dm_skhcn --serial "$tok" --to handed_over \
    --field receiver="Trương Văn Tùng" >/dev/null
  # a token locked by three wrong PINs, its recovery request waiting for the authority (R13.1)
  if [[ -f $P11LOCK ]] && command -v pkcs11-tool >/dev/null; then
    id=$(waiting "$W/mai.csv" "Lý Thị Mai" 075190000117 mai.lt@dongnai.gov.vn)
    "$KYSO" token enroll --home "$DEMO" --as cuc --request "$id" --module "$P11LOCK" --token-label mai \
      --pin-out "$DEMO/subscribers/mai.pin" >/dev/null
    tok=$("$KYSO" request show --home "$DEMO" --id "$id" --json | sed -n 's/.*"certificate_serial": "\([0-9a-f]*\)".*/\1/p')
    dev=$(sqlite3 "$DEMO/kyso.db" "select serial from devices where certificate_serial = '$tok'")
    "$KYSO" device move --home "$DEMO" --as dm_skhcn --serial "$dev" --to handed_over >/dev/null
    for _ in 1 2 3; do
      SOFTHSM2_CONF="$DEMO/softhsm2.conf" pkcs11-tool --module "$P11LOCK" --token-label mai --login \
        --pin 00000000 -O >/dev/null 2>&1 || true
    done
    "$KYSO" token status --home "$DEMO" --module "$P11LOCK" --token-label mai >/dev/null
    file --as dm_skhcn --kind recover --serial "$tok" >/dev/null
  fi
  # a SIM PKI certified through the MSSP simulator (the phone signs the CSR)
  SIMULATOR=./build/kyso-mssp-simulator
  if [[ -x $SIMULATOR ]]; then
    "$SIMULATOR" init --state "$DEMO/mssp" >/dev/null
    "$SIMULATOR" provision --state "$DEMO/mssp" --msisdn 84912000118 --key rsa-2048 \
      --out "$DEMO/subscribers/thao-sim.pub" >/dev/null
    "$SIMULATOR" serve --state "$DEMO/mssp" --listen 127.0.0.1:0 --port-file "$DEMO/mssp/port" \
      --delay-ms 300 >"$DEMO/mssp/log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 100); do [[ -s $DEMO/mssp/port ]] && break; sleep 0.05; done
    id=$(waiting "$W/thao.csv" "Phan Thị Thảo" 075190000118 thao.pt@dongnai.gov.vn Viettel)
    "$KYSO" sim enroll --home "$DEMO" --as cuc --request "$id" --public-key "$DEMO/subscribers/thao-sim.pub" \
      --mssp "http://127.0.0.1:$(cat "$DEMO/mssp/port")/mss" --phone 84912000118 \
      --cert-out "$DEMO/subscribers/thao.pem" >/dev/null
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  "$KYSO" audit checkpoint --home "$DEMO" >/dev/null
  echo "== demo agencies, users, requests and devices created (users and passwords: $DEMO/demo-users.txt)"
fi

echo "== demo users (name, role, agency, password):"
sed 's/^/   /' "$DEMO/demo-users.txt"
echo "== requests: ./build/kyso request list --home $DEMO --json   (or --as dm_skhcn to see one agency's)"
echo "== devices:  ./build/kyso device list --home $DEMO --json   (a token locked: --state locked)"

cat <<INFO
== try it (in another terminal):
   openssl ocsp -issuer $DEMO/issuing.pem -cert $DEMO/subscribers/nhung.pem \\
       -url $URL/ocsp -CAfile $DEMO/chain.pem
   curl -s $URL/crl/issuing.crl | openssl crl -inform DER -noout -text
   ./build/kyso cert show --home $DEMO --serial \$(openssl x509 -in $DEMO/subscribers/hoa.pem -noout -serial | cut -d= -f2) --json
   Sign with the demo's SIM PKI through the MSSP simulator:
     ./build/kyso-mssp-simulator serve --state $DEMO/mssp --listen 127.0.0.1:9090 &
     ./build/kyso sign cms README.md --out /tmp/README.p7s --detached --cert $DEMO/subscribers/thao.pem --home $DEMO --mssp http://127.0.0.1:9090/mss --phone 84912000118
     openssl cms -verify -binary -inform DER -in /tmp/README.p7s -content README.md -CAfile $DEMO/root.pem -out /dev/null
   Ctrl-C stops the server.
INFO
exec "$KYSO" serve --home "$DEMO" --listen "127.0.0.1:${PORT}"
