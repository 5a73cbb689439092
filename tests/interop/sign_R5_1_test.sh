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

# shellcheck source=sign_setup.sh
source "$(dirname "$0")/sign_setup.sh"

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
