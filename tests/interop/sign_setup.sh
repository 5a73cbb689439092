# shellcheck shell=bash
# sign_setup.sh: what the signing tests share, sourced after interop_setup: a deployment whose
# `kyso serve` answers OCSP and RFC 3161 (/tsa) at http://127.0.0.1:$PORT, a PKI Token enrolled
# for Nguyễn Thị Hồng Nhung (TOKEN=(...)), a .p12 for Trần Văn An (P12=(...)), the root in
# $D/root.pem, a one-page PDF $D/doc.pdf, and an NSS database $WORK/nss trusting the root for
# pdfsig.

for tool in pdfsig qpdf xmlsec1 certutil pk12util pkcs11-tool; do
  command -v "$tool" >/dev/null || fail "required tool '$tool' is not installed (scripts/setup.sh)"
done
SOFTHSM=$KYSO_SOFTHSM_MODULE
H="$WORK/home"
D="$WORK/data"
mkdir -p "$D"
OUT="$WORK/last.out"
ERR="$WORK/last.err"
refused() { refused_unchanged "$H" "$@"; }

# --- a deployment, a token enrolled for Nguyễn Thị Hồng Nhung, a .p12 for Trần Văn An --------
# Its certificates name an OCSP responder that is running: pdfsig (NSS) asks it, too.
PORT=$(free_port)
init_home "$H" --root-key ec-p256 --issuing-key ec-p256 --ocsp-key ec-p256 --public-url "http://127.0.0.1:$PORT"
"$KYSO" serve --home "$H" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
track_pid $!
for _ in $(seq 200); do curl -fsS --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS --max-time 1 "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "kyso serve did not start: $(cat "$WORK/serve.log")"
ok agency import --home "$H" "$REPO/../shared/domain/demo-agencies.csv"
printf 'mat-khau-thu-nghiem-2026\n' >"$WORK/pw"
ok user add --home "$H" --name cuc --role provider --password-file "$WORK/pw"
ok user add --home "$H" --name dm --role focal --agency SKHCN --password-file "$WORK/pw"
ok ca chain --home "$H"
cp "$OUT" "$D/chain.pem"
awk '/BEGIN/{n++} n==2' "$D/chain.pem" >"$D/root.pem"
printf 'ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki\nNguyễn Thị Hồng Nhung,12/04/1988,075188001234,20/07/2021,Cục Cảnh sát quản lý hành chính về trật tự xã hội,nhung@dongnai.gov.vn,SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,\n' >"$D/rows.csv"
ok request file --home "$H" --as dm --kind new-individual --rows "$D/rows.csv"
R=$(tail -n 1 "$OUT")
ok request decide --home "$H" --as cuc --id "$R" --approve
ok token enroll --home "$H" --as cuc --request "$R" --module "$SOFTHSM" --token-label nhung --pin-out "$D/nhung.pin"
TOKEN=(--module "$SOFTHSM" --token-label nhung --pin-file "$D/nhung.pin")

make_csr "$D/an.csr" rsa:2048
ok cert issue --home "$H" --profile individual --csr "$D/an.csr" --name "Trần Văn An" \
  --email an.tv@dongnai.gov.vn --org "Sở Khoa học và Công nghệ" --out "$D/an.pem"
printf 'p12-pass-2026\n' >"$D/an.pass"
openssl pkcs12 -export -inkey "$D/an.csr.key" -in "$D/an.pem" -passout pass:p12-pass-2026 \
  -out "$D/an.p12" 2>/dev/null || fail "openssl pkcs12 -export failed"
P12=(--p12 "$D/an.p12" --p12-pass-file "$D/an.pass")

# A one-page PDF with Vietnamese text, normalised by qpdf.
python3 "$(dirname "$0")/mkpdf.py" "$D/raw.pdf" "BT /F1 14 Tf 72 760 Td (Cong van so 123/SKHCN) Tj ET"
qpdf "$D/raw.pdf" "$D/doc.pdf" || fail "qpdf could not normalise the test PDF"

# NSS database trusting the deployment's root, for pdfsig.
mkdir -p "$WORK/nss"
certutil -N --empty-password -d "sql:$WORK/nss" >/dev/null
certutil -A -n kyso-root -t "CT,C,C" -i "$D/root.pem" -d "sql:$WORK/nss" >/dev/null

