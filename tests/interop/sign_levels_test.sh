# shellcheck shell=bash
# Signature levels, timestamps and R6.1, judged by tools kyso did not write:
#   1. PAdES B-T, B-LT and B-LTA (token, timestamps from `kyso serve` /tsa): pdfsig reports the
#      signature valid and trusted, qpdf --check is clean, each output begins with the input's
#      bytes; `openssl ts -verify` accepts the signature timestamp (over the CMS signature value)
#      and the document timestamp (over its ByteRange); B-LT carries a /DSS with the chain and
#      the revocation data; a .p12 signer then adds a second B-T signature and both stay valid;
#   2. CAdES B-T and B-LT: `openssl cms -verify` accepts them, `openssl ts -verify` the token
#      over the signature value; B-LT holds the TSA's chain and CRLs/OCSP (version 5 with OCSP);
#   3. XAdES B-T: `xmlsec1 --verify` accepts it, `openssl ts -verify` its timestamp;
#   4. refusals, each one line and no file: a TSA that is down, a level the format lacks, and
#      R6.1 — a document marked "MẬT" (PDF and XML), while "mật khẩu" in lower case is signed.
#
# usage: bash sign_levels_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
# shellcheck source=sign_setup.sh
source "$(dirname "$0")/sign_setup.sh"
PARTS=(python3 "$(dirname "$0")/sigparts.py")

# ts_verify TOKEN DATAFILE WHAT: openssl checks the token's signature, its TSA certificate's
# path to the root, and that its imprint is the SHA-256 of DATAFILE.
ts_verify() {
  openssl ts -verify -in "$1" -token_in -data "$2" -CAfile "$D/root.pem" >"$WORK/ts.txt" 2>&1 ||
    fail "openssl ts -verify rejects $3: $(cat "$WORK/ts.txt")"
  grep -q "Verification: OK" "$WORK/ts.txt" || fail "openssl ts -verify ($3): $(cat "$WORK/ts.txt")"
}

pdfsig_valid() {  # FILE N: pdfsig sees N signatures, all valid and trusted
  pdfsig -nssdir "sql:$WORK/nss" "$1" >"$WORK/pdfsig.txt" 2>&1 || true
  [[ $(grep -c "Signature Validation: Signature is Valid." "$WORK/pdfsig.txt") == "$2" ]] ||
    fail "pdfsig $1: not $2 valid signatures: $(cat "$WORK/pdfsig.txt")"
  [[ $(grep -c "Certificate Validation: Certificate is Trusted." "$WORK/pdfsig.txt") == "$2" ]] ||
    fail "pdfsig $1: not $2 trusted certificates: $(cat "$WORK/pdfsig.txt")"
}

# --- 1. PAdES levels --------------------------------------------------------------------------
for level in B-T B-LT B-LTA; do
  ok sign pdf "$D/doc.pdf" --out "$D/$level.pdf" --level "$level" --home "$H" "${TOKEN[@]}"
  grep -q "PAdES $level" "$OUT" || fail "sign pdf --level $level said: $(cat "$OUT")"
  cmp -n "$(stat -c %s "$D/doc.pdf")" "$D/doc.pdf" "$D/$level.pdf" || fail "$level.pdf does not begin with doc.pdf"
  qpdf --check "$D/$level.pdf" >"$WORK/qpdf.txt" 2>&1 || fail "qpdf --check $level.pdf: $(cat "$WORK/qpdf.txt")"
  mkdir -p "$D/$level"
  n=$("${PARTS[@]}" pdf "$D/$level.pdf" "$D/$level")
  "${PARTS[@]}" cms "$D/$level/sig0.der" "$D/$level" >/dev/null
  ts_verify "$D/$level/tst0.der" "$D/$level/sigvalue.bin" "the $level signature timestamp"
  openssl cms -verify -binary -inform DER -in "$D/$level/sig0.der" -content "$D/$level/sig0.data" \
    -CAfile "$D/root.pem" -out /dev/null >"$WORK/cms.txt" 2>&1 || fail "openssl cms -verify $level: $(cat "$WORK/cms.txt")"
  case $level in
    B-T) [[ $n == 1 ]] || fail "B-T.pdf has $n signature dictionaries" ;;
    B-LT)
      [[ $n == 1 ]] || fail "B-LT.pdf has $n signature dictionaries"
      grep -aq "/DSS" "$D/$level.pdf" || fail "B-LT.pdf has no /DSS"
      grep -aq "/ESIC" "$D/$level.pdf" || fail "B-LT.pdf does not declare the ESIC extension"
      ;;
    B-LTA)
      [[ $n == 2 && $(cat "$D/$level/sig1.type") == DocTimeStamp ]] || fail "B-LTA.pdf: no document timestamp after the signature"
      ts_verify "$D/$level/sig1.der" "$D/$level/sig1.data" "the document timestamp"
      ;;
  esac
done
# The DSS holds the chain (three certificates) and the revocation data, as qpdf reads it.
qpdf --show-object=trailer "$D/B-LT.pdf" >/dev/null
python3 - "$D/B-LT.pdf" <<'PY' || fail "B-LT.pdf: the DSS is not what it should be"
import re, subprocess, sys
f = sys.argv[1]
root = subprocess.run(["qpdf", "--show-object=trailer", f], capture_output=True, text=True).stdout
catalog = re.search(r"/Root (\d+) 0 R", root).group(1)
cat = subprocess.run(["qpdf", "--show-object=" + catalog, f], capture_output=True, text=True).stdout
dss = re.search(r"/DSS (\d+) 0 R", cat).group(1)
d = subprocess.run(["qpdf", "--show-object=" + dss, f], capture_output=True, text=True).stdout
certs = re.search(r"/Certs \[([^\]]*)\]", d).group(1).count(" R")
revocation = sum(re.search(k + r" \[([^\]]*)\]", d).group(1).count(" R") for k in ("/CRLs", "/OCSPs") if k in d)
assert certs >= 3 and revocation >= 2, (certs, revocation, d)
PY
pdfsig_valid "$D/B-T.pdf" 1
pdfsig_valid "$D/B-LT.pdf" 1
# pdfsig 22.12 lists the document timestamp as a signature it cannot judge: only the first.
pdfsig -nssdir "sql:$WORK/nss" "$D/B-LTA.pdf" >"$WORK/pdfsig.txt" 2>&1 || true
grep -m1 "Signature Validation" "$WORK/pdfsig.txt" | grep -q "Signature is Valid." ||
  fail "pdfsig on B-LTA.pdf: $(cat "$WORK/pdfsig.txt")"
ok sign pdf "$D/B-LT.pdf" --out "$D/two-BT.pdf" --level B-T --home "$H" "${P12[@]}" --rect 300,100,200,60
pdfsig_valid "$D/two-BT.pdf" 2
note "PAdES B-T, B-LT (DSS), B-LTA (document timestamp): pdfsig, qpdf, openssl ts/cms agree"

# Documents first signed by other software, then by kyso at B-LTA: every signature stays valid.
command -v podofosign >/dev/null || fail "podofosign is not installed (libpodofo-utils)"
podofosign -in "$D/doc.pdf" -out "$D/podofo.pdf" -cert "$D/an.pem" -pkey "$D/an.csr.key" -digest SHA256 \
  >"$WORK/podofo.txt" 2>&1 || fail "podofosign: $(cat "$WORK/podofo.txt")"
pk12util -i "$D/an.p12" -d "sql:$WORK/nss" -W p12-pass-2026 >/dev/null 2>&1 || fail "pk12util cannot import an.p12"
pdfsig -nssdir "sql:$WORK/nss" -add-signature -nick "$(certutil -L -d "sql:$WORK/nss" | awk '/u,u,u/ {sub(/ +u,u,u.*/, ""); print; exit}')" \
  -digest SHA256 "$D/doc.pdf" "$D/by-pdfsig.pdf" >"$WORK/add.txt" 2>&1 || fail "pdfsig -add-signature: $(cat "$WORK/add.txt")"
for first in podofo by-pdfsig; do
  ok sign pdf "$D/$first.pdf" --out "$D/$first-kyso.pdf" --level B-LTA --home "$H" "${TOKEN[@]}"
  cmp -n "$(stat -c %s "$D/$first.pdf")" "$D/$first.pdf" "$D/$first-kyso.pdf" || fail "$first-kyso.pdf does not begin with $first.pdf"
  qpdf --check "$D/$first-kyso.pdf" >"$WORK/qpdf.txt" 2>&1 || fail "qpdf --check $first-kyso.pdf: $(cat "$WORK/qpdf.txt")"
  pdfsig -nssdir "sql:$WORK/nss" "$D/$first-kyso.pdf" >"$WORK/pdfsig.txt" 2>&1 || true
  [[ $(grep -m2 "Signature Validation" "$WORK/pdfsig.txt" | grep -c "Signature is Valid.") == 2 ]] ||
    fail "after $first, pdfsig: $(cat "$WORK/pdfsig.txt")"
done
note "PDFs signed first by podofosign and by pdfsig -add-signature keep their signatures after kyso B-LTA"

# --- 2. CAdES levels --------------------------------------------------------------------------
for level in B-T B-LT; do
  ok sign cms "$D/doc.pdf" --detached --level "$level" --out "$D/cades-$level.p7s" --home "$H" "${TOKEN[@]}"
  openssl cms -verify -binary -inform DER -in "$D/cades-$level.p7s" -content "$D/doc.pdf" -CAfile "$D/root.pem" \
    -out /dev/null >"$WORK/cms.txt" 2>&1 || fail "openssl cms -verify CAdES $level: $(cat "$WORK/cms.txt")"
  mkdir -p "$D/cades-$level"
  read -r version crls ncerts tokens < <("${PARTS[@]}" cms "$D/cades-$level.p7s" "$D/cades-$level")
  [[ $tokens == 1 ]] || fail "CAdES $level has $tokens signature timestamps"
  ts_verify "$D/cades-$level/tst0.der" "$D/cades-$level/sigvalue.bin" "the CAdES $level timestamp"
  if [[ $level == B-LT ]]; then
    [[ $crls == 1 && $ncerts -ge 4 ]] || fail "CAdES B-LT: crls=$crls certificates=$ncerts (want the TSA's chain and revocation data)"
  fi
done
ok sign cms "$D/doc.pdf" --level B-T --out "$D/attached.p7m" --home "$H" "${P12[@]}"
openssl cms -verify -binary -inform DER -in "$D/attached.p7m" -CAfile "$D/root.pem" -out "$D/attached.out" \
  >"$WORK/cms.txt" 2>&1 || fail "openssl cms -verify attached B-T: $(cat "$WORK/cms.txt")"
cmp -s "$D/attached.out" "$D/doc.pdf" || fail "the attached content is not the input"
note "CAdES B-T and B-LT: openssl cms -verify and openssl ts -verify accept them"

# --- 3. XAdES B-T -----------------------------------------------------------------------------
printf '<?xml version="1.0" encoding="UTF-8"?>\n<VanBan><SoKyHieu>45/QĐ-UBND</SoKyHieu><TrichYeu>Về mật khẩu hộp thư công vụ</TrichYeu></VanBan>\n' >"$D/vb.xml"
ok sign xml "$D/vb.xml" --level B-T --out "$D/vb-BT.xml" --home "$H" "${TOKEN[@]}"
xmlsec1 --verify --trusted-pem "$D/root.pem" --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties \
  --enabled-reference-uris empty,same-doc "$D/vb-BT.xml" >"$WORK/xmlsec.txt" 2>&1 ||
  fail "xmlsec1 rejects the XAdES B-T signature: $(cat "$WORK/xmlsec.txt")"
mkdir -p "$D/xades"
[[ $("${PARTS[@]}" xades "$D/vb-BT.xml" "$D/xades") == 1 ]] || fail "XAdES B-T: no EncapsulatedTimeStamp"
ts_verify "$D/xades/tst0.der" "$D/xades/sigvalue.c14n" "the XAdES signature timestamp"
note "XAdES B-T: xmlsec1 and openssl ts -verify accept it ('mật khẩu' is not a secret marker)"

# --- 4. refusals ------------------------------------------------------------------------------
DEAD=$(free_port)
refused "TSA down" "dấu thời gian" sign pdf "$D/doc.pdf" --out "$D/x.pdf" --level B-T --tsa "http://127.0.0.1:$DEAD/tsa" --home "$H" "${TOKEN[@]}"
# A TSA of another deployment answers, but nothing chains it to this one's root: refused before
# the signer is asked (the probe), for PDF and CMS alike.
H2="$WORK/other"
PORT2=$(free_port)
init_home "$H2" --root-key ec-p256 --issuing-key ec-p256 --ocsp-key ec-p256 --public-url "http://127.0.0.1:$PORT2"
"$KYSO" serve --home "$H2" --listen "127.0.0.1:$PORT2" >"$WORK/serve2.log" 2>&1 &
track_pid $!
for _ in $(seq 200); do curl -fsS --max-time 1 "http://127.0.0.1:$PORT2/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
refused "untrusted TSA, PDF" "không tin cậy" sign pdf "$D/doc.pdf" --out "$D/x.pdf" --level B-T --tsa "http://127.0.0.1:$PORT2/tsa" --home "$H" "${TOKEN[@]}"
refused "untrusted TSA, CMS" "không tin cậy" sign cms "$D/doc.pdf" --out "$D/x.p7s" --level B-T --tsa "http://127.0.0.1:$PORT2/tsa" --home "$H" "${TOKEN[@]}"
refused "untrusted TSA, XML" "không tin cậy" sign xml "$D/vb.xml" --out "$D/x.xml" --level B-T --tsa "http://127.0.0.1:$PORT2/tsa" --home "$H" "${TOKEN[@]}"
refused "no B-LTA for XML" "B-B, B-T" sign xml "$D/vb.xml" --out "$D/x.xml" --level B-LTA --home "$H" "${TOKEN[@]}"
# R6.1: a document marked secret (the grade stamped on its first page).
# "TỐI MẬT" cannot be drawn in WinAnsi Helvetica: the marker is in the Info /Keywords.
python3 "$(dirname "$0")/mkpdf.py" "$D/secret.pdf" "BT /F1 14 Tf 72 800 Td (Cong van) Tj ET" "TỐI MẬT"
refused "R6.1 secret PDF" "R6.1" sign pdf "$D/secret.pdf" --out "$D/x.pdf" --home "$H" "${TOKEN[@]}"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<VanBan><DoMat>MẬT</DoMat><TrichYeu>Kế hoạch</TrichYeu></VanBan>\n' >"$D/secret.xml"
refused "R6.1 secret XML" "R6.1" sign xml "$D/secret.xml" --out "$D/x.xml" --home "$H" "${TOKEN[@]}"
refused "R6.1 secret file as CMS" "R6.1" sign cms "$D/secret.xml" --out "$D/x.p7s" --home "$H" "${TOKEN[@]}"
for f in x.pdf x.xml x.p7s; do [[ ! -e $D/$f ]] || fail "a refused signature wrote $f"; done
note "refusals: TSA down, an untrusted TSA (PDF, CMS, XML), B-LTA for XML, R6.1 (PDF keywords, XML text, CMS of XML)"

finish_checks
pass "PAdES B-T/B-LT/B-LTA, CAdES B-T/B-LT, XAdES B-T (pdfsig, qpdf, openssl ts/cms, xmlsec1), R6.1"
