# shellcheck shell=bash
# Signing documents through the CLI, judged by tools kyso did not write:
#   1. `kyso sign pdf` with a PKI Token (the certificate read from the token) and then with a
#      .p12 of another signer: poppler's pdfsig reports both signatures valid and their
#      certificates trusted (an NSS database trusting the deployment's root), `qpdf --check`
#      is clean, and each output begins with the exact bytes of its input;
#   2. `kyso sign xml` (enveloped and detached): `xmlsec1 --verify` accepts them;
#   3. `kyso sign cms --detached` with the token: `openssl cms -verify` accepts it;
#   4. R5.1: a revoked certificate, or no trust anchor, is refused before signing with one line
#      (Vietnamese, R5.4) and nothing is written.
#
# usage: bash sign_R5_1_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

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
python3 - "$D/raw.pdf" <<'EOF'
import sys
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"]
text = b"BT /F1 14 Tf 72 760 Td (Cong van so 123/SKHCN) Tj ET"
objs.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
offsets = []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for off in offsets:
    out += b"%010d 00000 n \n" % off
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open(sys.argv[1], "wb").write(out)
EOF
qpdf "$D/raw.pdf" "$D/doc.pdf" || fail "qpdf could not normalise the test PDF"

# NSS database trusting the deployment's root, for pdfsig.
mkdir -p "$WORK/nss"
certutil -N --empty-password -d "sql:$WORK/nss" >/dev/null
certutil -A -n kyso-root -t "CT,C,C" -i "$D/root.pem" -d "sql:$WORK/nss" >/dev/null

# --- 1. PAdES ---------------------------------------------------------------------------------
ok sign pdf "$D/doc.pdf" --out "$D/one.pdf" --home "$H" "${TOKEN[@]}" --reason "Phê duyệt" --location "Đồng Nai"
ok sign pdf "$D/one.pdf" --out "$D/two.pdf" --home "$H" "${P12[@]}" --page 1 --rect 300,100,200,60
cmp -n "$(stat -c %s "$D/doc.pdf")" "$D/doc.pdf" "$D/one.pdf" || fail "one.pdf does not begin with doc.pdf"
cmp -n "$(stat -c %s "$D/one.pdf")" "$D/one.pdf" "$D/two.pdf" || fail "two.pdf does not begin with one.pdf"
for f in one two; do
  qpdf --check "$D/$f.pdf" >"$WORK/qpdf.$f" 2>&1 || fail "qpdf --check $f.pdf: $(cat "$WORK/qpdf.$f")"
done
pdfsig -nssdir "sql:$WORK/nss" "$D/two.pdf" >"$WORK/pdfsig.txt" 2>&1 || true
[[ $(grep -c "Signature Validation: Signature is Valid." "$WORK/pdfsig.txt") == 2 ]] ||
  fail "pdfsig does not report two valid signatures: $(cat "$WORK/pdfsig.txt")"
[[ $(grep -c "Certificate Validation: Certificate is Trusted." "$WORK/pdfsig.txt") == 2 ]] ||
  fail "pdfsig does not trust both certificates: $(cat "$WORK/pdfsig.txt")"
grep -q "Nguyễn Thị Hồng Nhung" "$WORK/pdfsig.txt" || check_later "pdfsig does not name the token's signer"
note "PAdES: token then .p12, pdfsig valid and trusted twice, qpdf --check clean, prefixes kept"

# --- 2. XAdES ---------------------------------------------------------------------------------
printf '<?xml version="1.0" encoding="UTF-8"?>\n<VanBan><SoKyHieu>123/QĐ-SKHCN</SoKyHieu><TrichYeu>Về việc cấp chứng thư số</TrichYeu></VanBan>\n' >"$D/vb.xml"
ok sign xml "$D/vb.xml" --out "$D/vb.signed.xml" --home "$H" "${P12[@]}"
xmlsec1 --verify --trusted-pem "$D/root.pem" --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties \
  --enabled-reference-uris empty,same-doc "$D/vb.signed.xml" >"$WORK/xmlsec.txt" 2>&1 ||
  fail "xmlsec1 rejects the enveloped signature: $(cat "$WORK/xmlsec.txt")"
ok sign xml "$D/vb.xml" --detached --out "$D/vb.sig.xml" --home "$H" "${TOKEN[@]}"
(cd "$D" && xmlsec1 --verify --trusted-pem root.pem --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties \
  --enabled-reference-uris same-doc,remote --url-map:vb.xml vb.xml vb.sig.xml) >"$WORK/xmlsec2.txt" 2>&1 ||
  fail "xmlsec1 rejects the detached signature: $(cat "$WORK/xmlsec2.txt")"
note "XAdES: enveloped (.p12) and detached (token) accepted by xmlsec1"

# --- 3. CMS -----------------------------------------------------------------------------------
ok sign cms "$D/doc.pdf" --detached --out "$D/doc.p7s" --home "$H" "${TOKEN[@]}"
openssl cms -verify -binary -inform DER -in "$D/doc.p7s" -content "$D/doc.pdf" -CAfile "$D/root.pem" \
  -out /dev/null >"$WORK/cms.txt" 2>&1 || fail "openssl cms -verify: $(cat "$WORK/cms.txt")"

# --- 4. R5.1 refusals -------------------------------------------------------------------------
refused "no trust anchor" "R5.1" sign pdf "$D/doc.pdf" --out "$D/x.pdf" "${P12[@]}"
refused "a stranger's root only" "R5.1" sign pdf "$D/doc.pdf" --out "$D/x.pdf" --trust "$D/an.pem" --offline "${P12[@]}"
AN_SERIAL=$(openssl x509 -in "$D/an.pem" -noout -serial | cut -d= -f2)
ok cert revoke --home "$H" --serial "$AN_SERIAL" --reason keyCompromise
refused "revoked signer" "thu hồi" sign pdf "$D/doc.pdf" --out "$D/x.pdf" --home "$H" "${P12[@]}"
refused "revoked signer, XML" "thu hồi" sign xml "$D/vb.xml" --out "$D/x.xml" --home "$H" "${P12[@]}"
for f in x.pdf x.xml; do [[ ! -e $D/$f ]] || check_later "a refused signature wrote $f"; done
refused "a PDF that is not one" "" sign pdf "$D/vb.xml" --out "$D/x.pdf" --home "$H" "${TOKEN[@]}"

finish_checks
pass "PAdES (pdfsig, qpdf), XAdES (xmlsec1), CMS (openssl), R5.1 refusals"
