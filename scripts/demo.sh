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
  echo "== issued 5 certificates in $DEMO/subscribers, revoked $lost (keyCompromise)"
fi

cat <<INFO
== try it (in another terminal):
   openssl ocsp -issuer $DEMO/issuing.pem -cert $DEMO/subscribers/nhung.pem \\
       -url $URL/ocsp -CAfile $DEMO/chain.pem
   curl -s $URL/crl/issuing.crl | openssl crl -inform DER -noout -text
   ./build/kyso cert show --home $DEMO --serial \$(openssl x509 -in $DEMO/subscribers/hoa.pem -noout -serial | cut -d= -f2) --json
   Ctrl-C stops the server.
INFO
exec "$KYSO" serve --home "$DEMO" --listen "127.0.0.1:${PORT}"
