# shellcheck shell=bash
# `kyso verify` (TT15 Art. 6, R6.2, R6.3; Decree 30 R30.4) on PDFs kyso signed and PDFs other
# software signed, judged against what the signing tools and pdfsig say:
#   1. every kyso level (B-B, B-T, B-LT, B-LTA) and PDFs first signed by podofosign and
#      pdfsig -add-signature: TOTAL-PASSED, exit 0, JSON with the documented fields;
#   2. a byte flipped inside a signed range: TOTAL-FAILED/HASH_FAILURE (pdfsig agrees);
#   3. no path to the anchors given: INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND;
#   4. the signer's certificate revoked before validation: the REVOKED family;
#   5. a certificate file is validated as a path; the Vietnamese text report names the verdict.
#
# usage: bash verify_R6_2_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
# shellcheck source=sign_setup.sh
source "$(dirname "$0")/sign_setup.sh"

# indication FILE JQPATH: what the JSON report says (python3, standard library only).
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }

# --- 1. everything kyso and the others sign passes -------------------------------------------
for level in B-B B-T B-LT B-LTA; do
  ok sign pdf "$D/doc.pdf" --out "$D/$level.pdf" --level "$level" --home "$H" "${TOKEN[@]}"
done
podofosign -in "$D/doc.pdf" -out "$D/podofo.pdf" -cert "$D/an.pem" -pkey "$D/an.csr.key" -digest SHA256 >/dev/null 2>&1 ||
  fail "podofosign failed"
ok sign pdf "$D/podofo.pdf" --out "$D/podofo-kyso.pdf" --level B-LT --home "$H" "${TOKEN[@]}"
# poppler's own signer (NSS): the signer's PKCS#12 imported into the NSS database sign_setup made.
pk12util -i "$D/an.p12" -d "sql:$WORK/nss" -W p12-pass-2026 >/dev/null 2>&1 || fail "pk12util cannot import an.p12"
pdfsig -nssdir "sql:$WORK/nss" -add-signature -nick "$(certutil -L -d "sql:$WORK/nss" | awk '/u,u,u/ {sub(/ +u,u,u.*/, ""); print; exit}')" \
  -digest SHA256 "$D/doc.pdf" "$D/pdfsig.pdf" >"$WORK/add.txt" 2>&1 || fail "pdfsig -add-signature: $(cat "$WORK/add.txt")"
for f in B-B B-T B-LT B-LTA podofo podofo-kyso pdfsig; do
  ok verify "$D/$f.pdf" --home "$H" --format json --out "$D/$f.json"
  [[ $(json_get "$D/$f.json" 'd["indication"]') == TOTAL-PASSED ]] || fail "$f.pdf: $(cat "$D/$f.json")"
done
[[ $(json_get "$D/B-LTA.json" 'len(d["signatures"])') == 2 ]] || fail "B-LTA: not two signatures: $(cat "$D/B-LTA.json")"
[[ $(json_get "$D/B-T.json" 'd["signatures"][0]["timestampTime"] is not None') == True ]] ||
  fail "B-T: no timestamp time: $(cat "$D/B-T.json")"
for key in indication subIndication signer issuer managingUnit signingTime timestampTime certificateValidity revocation \
  coversWholeDocument modificationsAfter; do
  [[ $(json_get "$D/B-LT.json" "'$key' in d['signatures'][0]") == True ]] || fail "JSON lacks $key"
done
[[ $(json_get "$D/B-LT.json" 'd["signatures"][0]["managingUnit"]') == "Phòng Chuyển đổi số, Sở Khoa học và Công nghệ" ]] ||
  fail "B-LT: the managing unit (R6.3) is not the signer's agency: $(cat "$D/B-LT.json")"
[[ $(json_get "$D/B-LT.json" 'd["signatures"][0]["modificationsAfter"][0]["class"]') == dss ]] ||
  fail "B-LT: the DSS update is not classified dss: $(cat "$D/B-LT.json")"
note "B-B, B-T, B-LT, B-LTA, a podofosign-first PDF and a pdfsig-signed PDF: TOTAL-PASSED"

# CMS: kyso's CAdES (detached B-LT with --content, attached B-T) and plain CMS from openssl.
ok sign cms "$D/doc.pdf" --detached --level B-LT --out "$D/doc.p7s" --home "$H" "${TOKEN[@]}"
ok sign cms "$D/doc.pdf" --level B-T --out "$D/doc.p7m" --home "$H" "${TOKEN[@]}"
openssl cms -sign -binary -in "$D/doc.pdf" -signer "$D/an.pem" -inkey "$D/an.csr.key" -outform DER \
  -out "$D/openssl.p7s" 2>/dev/null || fail "openssl cms -sign failed"
ok verify "$D/doc.p7s" --content "$D/doc.pdf" --home "$H" --format json --out "$D/p7s.json"
[[ $(json_get "$D/p7s.json" 'd["signatures"][0]["timestampTime"] is not None') == True ]] || fail "CAdES B-LT: $(cat "$D/p7s.json")"
run_kyso verify "$D/doc.p7m" --home "$H"; ((RC == 0)) || fail "doc.p7m: $(cat "$OUT" "$ERR")"
ok verify "$D/openssl.p7s" --content "$D/doc.pdf" --home "$H"
run_kyso verify "$D/doc.p7s" --content "$D/doc.p7m" --home "$H" --format json --out "$D/wrong.json"
[[ $(json_get "$D/wrong.json" 'd["signatures"][0]["subIndication"]') == HASH_FAILURE ]] || fail "wrong content: $(cat "$D/wrong.json")"
refused_unchanged "$H" "detached without --content" "content" verify "$D/doc.p7s" --home "$H"
# R7.2: a signature made now with SHA-1 is not accepted (INDETERMINATE, the crypto constraint
# named); --algorithms-from moves the date the rule starts, `never` turns it off.
openssl cms -sign -binary -md sha1 -in "$D/doc.pdf" -signer "$D/an.pem" -inkey "$D/an.csr.key" -outform DER \
  -out "$D/sha1.p7s" 2>/dev/null || fail "openssl cms -sign -md sha1 failed"
run_kyso verify "$D/sha1.p7s" --content "$D/doc.pdf" --home "$H" --format json --out "$D/sha1.json"
((RC == 1)) || fail "a SHA-1 signature made now passed"
[[ $(json_get "$D/sha1.json" 'd["signatures"][0]["subIndication"]') == CRYPTO_CONSTRAINTS_FAILURE_NO_POE ]] ||
  fail "SHA-1: $(cat "$D/sha1.json")"
json_get "$D/sha1.json" 'd["signatures"][0]["message"]' | grep -q "R7.2" || fail "SHA-1: R7.2 not named: $(cat "$D/sha1.json")"
podofosign -in "$D/doc.pdf" -out "$D/sha1.pdf" -cert "$D/an.pem" -pkey "$D/an.csr.key" -digest SHA1 >/dev/null 2>&1 ||
  fail "podofosign -digest SHA1 failed"
run_kyso verify "$D/sha1.pdf" --home "$H" --format json --out "$D/sha1-pdf.json"
[[ $(json_get "$D/sha1-pdf.json" 'd["signatures"][0]["subIndication"]') == CRYPTO_CONSTRAINTS_FAILURE_NO_POE ]] ||
  fail "SHA-1 PDF: $(cat "$D/sha1-pdf.json")"
ok verify "$D/sha1.pdf" --home "$H" --algorithms-from never
# RSASSA-PSS is accepted (R7.2), but not with SHA-1 hidden in its MGF1 parameters.
openssl cms -sign -binary -md sha256 -in "$D/doc.pdf" -signer "$D/an.pem" -inkey "$D/an.csr.key" \
  -keyopt rsa_padding_mode:pss -outform DER -out "$D/pss.p7s" 2>/dev/null || fail "openssl cms -sign (PSS) failed"
ok verify "$D/pss.p7s" --content "$D/doc.pdf" --home "$H"
openssl cms -sign -binary -md sha256 -in "$D/doc.pdf" -signer "$D/an.pem" -inkey "$D/an.csr.key" \
  -keyopt rsa_padding_mode:pss -keyopt rsa_mgf1_md:sha1 -outform DER -out "$D/pss-mgf1-sha1.p7s" 2>/dev/null ||
  fail "openssl cms -sign (PSS, MGF1 SHA-1) failed"
run_kyso verify "$D/pss-mgf1-sha1.p7s" --content "$D/doc.pdf" --home "$H" --format json --out "$D/pss1.json"
[[ $(json_get "$D/pss1.json" 'd["signatures"][0]["subIndication"]') == CRYPTO_CONSTRAINTS_FAILURE_NO_POE ]] ||
  fail "PSS with MGF1 SHA-1: $(cat "$D/pss1.json")"
# An XML signature whose SignatureMethod is rsa-sha256 but whose Reference is digested with
# SHA-1 (signed by xmlsec1): the weakest hash decides.
cat >"$D/sha1-ref.tmpl.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<VanBan><TrichYeu>Về việc phê duyệt</TrichYeu><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig1">
<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><ds:DigestValue/></ds:Reference>
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature></VanBan>
XML
xmlsec1 --sign --privkey-pem "$D/an.csr.key,$D/an.pem" --output "$D/sha1-ref.xml" "$D/sha1-ref.tmpl.xml" >/dev/null 2>&1 ||
  fail "xmlsec1 --sign failed"
run_kyso verify "$D/sha1-ref.xml" --home "$H" --format json --out "$D/sha1-ref.json"
[[ $(json_get "$D/sha1-ref.json" 'd["signatures"][0]["subIndication"]') == CRYPTO_CONSTRAINTS_FAILURE_NO_POE ]] ||
  fail "XML with a SHA-1 Reference: $(cat "$D/sha1-ref.json")"
ok verify "$D/sha1.p7s" --content "$D/doc.pdf" --home "$H" --algorithms-from never
ok verify "$D/sha1.p7s" --content "$D/doc.pdf" --home "$H" --algorithms-from 2099-01-01T00:00:00Z
refused_unchanged "$H" "a bad --algorithms-from" "algorithms-from" verify "$D/sha1.p7s" --content "$D/doc.pdf" --home "$H" \
  --algorithms-from "hôm qua"
note "R7.2: SHA-1 made after --algorithms-from: CRYPTO_CONSTRAINTS_FAILURE_NO_POE; before it, or never: TOTAL-PASSED"

# The usual pairing, X.p7s beside X: no --content needed.
cp "$D/doc.p7s" "$D/doc.pdf.p7s"
ok verify "$D/doc.pdf.p7s" --home "$H"
# An attached signature keeps its own content, whatever file lies beside it.
cp "$D/doc.p7m" "$D/att.p7s"
printf 'một tệp khác\n' >"$D/att"
ok verify "$D/att.p7s" --home "$H"
note "CMS: CAdES B-LT detached (with --content, or beside its file), B-T attached, openssl's plain CMS: TOTAL-PASSED; other content: HASH_FAILURE"

# A folder: the signed documents under it, recursively (other files and hidden ones skipped).
mkdir -p "$D/folder/sub" "$D/folder/.hidden" "$D/nothing"
cp "$D/B-LT.pdf" "$D/podofo.pdf" "$D/folder/"
cp "$D/B-T.pdf" "$D/folder/sub/B-T.PDF"
echo "ghi chú" >"$D/folder/notes.txt"
cp "$D/doc.pdf" "$D/folder/.hidden/unsigned.pdf"
echo "ghi chú" >"$D/nothing/notes.txt"
ok verify "$D/folder" --home "$H" --format json --out "$D/folder.json"
[[ $(json_get "$D/folder.json" 'len(d)') == 3 ]] || fail "folder: not the 3 signed files: $(cat "$D/folder.json")"
refused_unchanged "$H" "a folder without signed documents" "thư mục" verify "$D/nothing" --home "$H"
note "a folder: its signed documents verified, other and hidden files skipped"

# XAdES: enveloped B-T, the person then the agency in one document, detached next to its file.
printf '<?xml version="1.0" encoding="UTF-8"?>\n<VanBan><SoKyHieu>12/QĐ-UBND</SoKyHieu><TrichYeu>Về việc phê duyệt</TrichYeu></VanBan>\n' >"$D/vb.xml"
ok sign xml "$D/vb.xml" --level B-T --out "$D/vb-person.xml" --home "$H" "${TOKEN[@]}"
ok sign xml "$D/vb-person.xml" --out "$D/vb-both.xml" --home "$H" "${P12[@]}"
ok sign xml "$D/vb.xml" --detached --out "$D/vb.sig.xml" --home "$H" "${TOKEN[@]}"
ok verify "$D/vb-both.xml" --home "$H" --format json --out "$D/xml.json"
[[ $(json_get "$D/xml.json" 'len(d["signatures"])') == 2 ]] || fail "two XAdES signatures: $(cat "$D/xml.json")"
[[ $(json_get "$D/xml.json" 'd["signatures"][0]["timestampTime"] is not None') == True ]] || fail "XAdES B-T: $(cat "$D/xml.json")"
ok verify "$D/vb.sig.xml" --home "$H"
sed 's/12\/QĐ-UBND/13\/QĐ-UBND/' "$D/vb-both.xml" >"$D/vb-tampered.xml"
run_kyso verify "$D/vb-tampered.xml" --home "$H" --format json --out "$D/xml-t.json"
[[ $(json_get "$D/xml-t.json" 'd["signatures"][0]["subIndication"] + d["signatures"][1]["subIndication"]') == HASH_FAILUREHASH_FAILURE ]] ||
  fail "tampered XML: $(cat "$D/xml-t.json")"
# A signed document broken as XML (its last closing tag cut off) cannot hold a valid signature.
sed '$ s#</VanBan>##' "$D/vb-person.xml" >"$D/vb-broken.xml"
run_kyso verify "$D/vb-broken.xml" --home "$H" --format json --out "$D/xml-b.json"
[[ $(json_get "$D/xml-b.json" 'd["signatures"][0]["indication"] + "/" + d["signatures"][0]["subIndication"]') == TOTAL-FAILED/FORMAT_FAILURE ]] ||
  fail "broken signed XML: $(cat "$D/xml-b.json")"
note "XAdES: B-T, person + agency, detached: TOTAL-PASSED; changed text: HASH_FAILURE on both; broken XML: FORMAT_FAILURE"

# Revocation data the document lacks is fetched (the certificates name kyso serve's OCSP); with
# --offline it is not, and the national policy then cannot decide.
ok verify "$D/B-B.pdf" --trust "$D/root.pem" --untrusted "$D/chain.pem" --format json --out "$D/online.json"
[[ $(json_get "$D/online.json" 'd["indication"]') == TOTAL-PASSED ]] || fail "online: $(cat "$D/online.json")"
run_kyso verify "$D/B-B.pdf" --trust "$D/root.pem" --untrusted "$D/chain.pem" --offline --format json --out "$D/offline.json"
[[ $(json_get "$D/offline.json" 'd["signatures"][0]["subIndication"]') == TRY_LATER ]] || fail "offline: $(cat "$D/offline.json")"
ok verify "$D/B-LT.pdf" --trust "$D/root.pem" --offline   # B-LT carries what it needs
note "revocation fetched over OCSP when missing; --offline gives TRY_LATER, except for B-LT"

# --- 2. a flipped byte -----------------------------------------------------------------------
python3 - "$D/B-B.pdf" "$D/tampered.pdf" "$(stat -c %s "$D/doc.pdf")" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.index(b"595", 0, int(sys.argv[3]))  # the page's MediaBox, inside the signed range
data[at + 2] = ord("6")
open(sys.argv[2], "wb").write(data)
PY
run_kyso verify "$D/tampered.pdf" --home "$H" --format json --out "$D/tampered.json"
((RC == 1)) || fail "a tampered PDF exited $RC"
[[ $(json_get "$D/tampered.json" 'd["signatures"][0]["indication"] + "/" + d["signatures"][0]["subIndication"]') == TOTAL-FAILED/HASH_FAILURE ]] ||
  fail "tampered: $(cat "$D/tampered.json")"
pdfsig "$D/tampered.pdf" 2>&1 | grep -q "Digest Mismatch" || fail "pdfsig does not see the tampering either"
note "a byte flipped in the signed range: TOTAL-FAILED/HASH_FAILURE, as pdfsig's Digest Mismatch"

# --- 3. an anchor that is not the signer's -----------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/other.key" -subj "/CN=Other Root" \
  -days 30 -out "$D/other.pem" 2>/dev/null || fail "openssl req failed"
run_kyso verify "$D/B-B.pdf" --trust "$D/other.pem" --format json --out "$D/untrusted.json"
[[ $(json_get "$D/untrusted.json" 'd["signatures"][0]["subIndication"]') == NO_CERTIFICATE_CHAIN_FOUND ]] ||
  fail "untrusted: $(cat "$D/untrusted.json")"
note "an unknown root: NO_CERTIFICATE_CHAIN_FOUND"
# The deployment's trust store: a PDF signed under "Other Root" passes once the root is in
# $H/trust/ (or given as a --trust folder), not before.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/other-leaf.key" \
  -subj "/CN=Trần Thị Bình" -out "$D/other-leaf.csr" 2>/dev/null || fail "openssl req (leaf) failed"
printf 'keyUsage=critical,digitalSignature,nonRepudiation\n' >"$D/other-leaf.ext"
openssl x509 -req -in "$D/other-leaf.csr" -CA "$D/other.pem" -CAkey "$D/other.key" -CAcreateserial -days 30 \
  -extfile "$D/other-leaf.ext" -out "$D/other-leaf.pem" 2>/dev/null || fail "openssl x509 -req failed"
podofosign -in "$D/doc.pdf" -out "$D/other.pdf" -cert "$D/other-leaf.pem" -pkey "$D/other-leaf.key" -digest SHA256 \
  >/dev/null 2>&1 || fail "podofosign (other root) failed"
run_kyso verify "$D/other.pdf" --home "$H"
((RC == 1)) || fail "other.pdf passed before its root was trusted: $(cat "$OUT")"
mkdir -p "$H/trust" "$D/store"
cp "$D/other.pem" "$H/trust/other-root.pem"
cp "$D/other.pem" "$D/store/other-root.crt"
ok verify "$D/other.pdf" --home "$H"
ok verify "$D/other.pdf" --trust "$D/store"
rm "$H/trust/other-root.pem"
# A signer's own certificate (CA:FALSE) in the trust store trusts that signer, not whatever its
# key might issue: a certificate "issued" by it does not pass.
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$D/bob.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/bob.key" -subj "/CN=Lê Văn Bình" \
  -out "$D/bob.csr" 2>/dev/null || fail "openssl req (bob) failed"
openssl x509 -req -in "$D/bob.csr" -CA "$D/other.pem" -CAkey "$D/other.key" -CAcreateserial -days 30 \
  -extfile "$D/bob.ext" -out "$D/bob.pem" 2>/dev/null || fail "openssl x509 (bob) failed"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/forged.key" -subj "/CN=Giả mạo" \
  -out "$D/forged.csr" 2>/dev/null || fail "openssl req (forged) failed"
openssl x509 -req -in "$D/forged.csr" -CA "$D/bob.pem" -CAkey "$D/bob.key" -CAcreateserial -days 30 \
  -extfile "$D/other-leaf.ext" -out "$D/forged.pem" 2>/dev/null || fail "openssl x509 (forged) failed"
openssl cms -sign -binary -in "$D/doc.pdf" -signer "$D/forged.pem" -inkey "$D/forged.key" -outform DER \
  -out "$D/forged.p7s" 2>/dev/null || fail "openssl cms -sign (forged) failed"
mkdir -p "$D/bob-store" && cp "$D/bob.pem" "$D/bob-store/"
run_kyso verify "$D/forged.p7s" --content "$D/doc.pdf" --trust "$D/bob-store" --offline
((RC == 1)) || fail "a certificate issued by a trusted end entity passed: $(cat "$OUT")"
note "a root in DIR/trust/ or a --trust folder is a trust anchor; an end entity there cannot issue"

# --- 4. a revoked signer -----------------------------------------------------------------------
ok sign pdf "$D/doc.pdf" --out "$D/an.pdf" --home "$H" "${P12[@]}"
AN_SERIAL=$(openssl x509 -in "$D/an.pem" -noout -serial | cut -d= -f2)
ok cert revoke --home "$H" --serial "$AN_SERIAL" --reason keyCompromise
run_kyso verify "$D/an.pdf" --home "$H" --format json --out "$D/revoked.json"
[[ $(json_get "$D/revoked.json" 'd["signatures"][0]["subIndication"]') == REVOKED* ]] ||
  fail "revoked: $(cat "$D/revoked.json")"
[[ $(json_get "$D/revoked.json" 'd["signatures"][0]["revocation"]["status"]') == revoked ]] ||
  fail "revoked: no revocation status: $(cat "$D/revoked.json")"
note "a revoked signer: the REVOKED family"

# --- 5. a certificate path, and the officer's text ------------------------------------------
ok verify "$D/chain.pem" --home "$H" --policy strict   # the issuing CA, first in the file; its status from the root CRL
grep -q "hợp lệ (TOTAL-PASSED)" "$OUT" || fail "the issuing CA: $(cat "$OUT")"
run_kyso verify "$D/B-B.pdf" "$D/tampered.pdf" --home "$H"
((RC == 1)) || fail "a batch with a tampered file exited $RC"
grep -q "hợp lệ (TOTAL-PASSED)" "$OUT" && grep -q "không hợp lệ (TOTAL-FAILED)" "$OUT" || fail "text report: $(cat "$OUT")"
grep -q "^kyso: 1/2 tệp" "$ERR" || fail "no summary line: $(cat "$ERR")"
grep -q "^2 tệp: 1 hợp lệ, 1 không hợp lệ, 0 chưa xác định được" "$OUT" || fail "no summary table: $(cat "$OUT")"
# The R6.3 report for people, and a batch on two workers.
run_kyso verify "$D"/B-*.pdf "$D/tampered.pdf" --home "$H" --format html --jobs 2 --out "$D/report.html"
((RC == 1)) || fail "html batch exited $RC"
grep -q '<html lang="vi">' "$D/report.html" && grep -q "Tổ chức cấp chứng thư số" "$D/report.html" &&
  grep -q "không hợp lệ" "$D/report.html" || fail "html report: $(head -c 2000 "$D/report.html")"
[[ $(grep -c "<h2>" "$D/report.html") == 5 ]] || fail "html report does not list 5 files"
note "a certificate validated as a path; the text report in Vietnamese"

finish_checks
pass "kyso verify: every level and a foreign signature pass; tampering, unknown root and revocation are named"
