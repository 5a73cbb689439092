# shellcheck shell=bash
# `kyso verify --format pdf` (R6.3, the human report as PDF), judged by qpdf and poppler:
#   1. a PDF signed by podofosign with an openssl CA (no deployment, no token): the report is a
#      valid PDF (qpdf --check), has pages (pdfinfo), and pdftotext gives back the Vietnamese
#      title, verdict, signer and summary with their diacritics;
#   2. a byte flipped in the signed range: the report says "không hợp lệ";
#   3. the same --at gives the same bytes; without --out the PDF goes to stdout;
#   4. EU DSS's hide.pdf (shadow attack), when ../shared/testdata is there: the prominent warning
#      "nội dung đã bị thay đổi sau khi ký";
#   5. an unknown --format is refused in Vietnamese and names pdf.
#
# usage: bash verify_report_pdf_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
for tool in qpdf pdftotext pdfinfo podofosign; do
  command -v "$tool" >/dev/null || fail "required tool '$tool' is not installed"
done
D=$WORK

# --- a CA, a signer with a Vietnamese name, a signed PDF ----------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ca.key" \
  -out "$D/ca.pem" -days 3650 -utf8 -subj "/CN=Kyso Test CA/O=Ủy ban nhân dân tỉnh/C=VN" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>"$D/err" ||
  fail "openssl CA: $(cat "$D/err")"
openssl req -new -newkey rsa:2048 -nodes -keyout "$D/an.key" -out "$D/an.csr" -utf8 \
  -subj "/CN=Nguyễn Văn Ánh/O=Sở Khoa học và Công nghệ/C=VN" 2>"$D/err" || fail "openssl req: $(cat "$D/err")"
printf 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$D/an.ext"
openssl x509 -req -in "$D/an.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial -days 730 \
  -extfile "$D/an.ext" -out "$D/an.pem" 2>"$D/err" || fail "openssl x509: $(cat "$D/err")"
python3 "$(dirname "$0")/mkpdf.py" "$D/doc.pdf" "BT /F1 14 Tf 72 760 Td (Cong van so 15/SKHCN) Tj ET"
podofosign -in "$D/doc.pdf" -out "$D/signed.pdf" -cert "$D/an.pem" -pkey "$D/an.key" -digest SHA256 \
  >/dev/null 2>&1 || fail "podofosign failed"

AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
VERIFY=(--trust "$D/ca.pem" --offline --at "$AT")

# pdf_text PDF: qpdf and pdfinfo accept it; its text (pdftotext, UTF-8) is in $D/text.
pdf_text() {
  qpdf --check "$1" >"$D/check" 2>&1 || fail "qpdf --check $1: $(cat "$D/check")"
  grep -q "No syntax or stream encoding errors" "$D/check" || fail "qpdf --check $1: $(cat "$D/check")"
  local pages
  pages=$(pdfinfo "$1" | sed -n 's/^Pages: *//p')
  ((pages >= 1)) || fail "$1: pdfinfo gives $pages pages"
  pdftotext -enc UTF-8 "$1" "$D/text" || fail "pdftotext $1"
}
has() { grep -qF -- "$1" "$D/text" || fail "the report lacks “$1”: $(cat "$D/text")"; }

# --- 1. the signed PDF ---------------------------------------------------------------------------
run_kyso verify "$D/signed.pdf" "${VERIFY[@]}" --format pdf --out "$D/report.pdf"
[[ -s $D/report.pdf ]] || fail "kyso verify --format pdf exited $RC, no report: $(cat "$ERR")"
pdf_text "$D/report.pdf"
has "BÁO CÁO KIỂM TRA CHỮ KÝ SỐ"
has "Nguyễn Văn Ánh"
has "Sở Khoa học và Công nghệ"
has "Thời điểm kiểm tra:"
has "1 tệp:"
grep -qE "Kết quả: (hợp lệ|không hợp lệ|chưa xác định được) \((TOTAL-PASSED|TOTAL-FAILED|INDETERMINATE)" "$D/text" ||
  fail "no verdict in the report: $(cat "$D/text")"
# The PDF says what the JSON says.
run_kyso verify "$D/signed.pdf" "${VERIFY[@]}" --format json --out "$D/report.json"
verdict=$(json_get "$D/report.json" verdict)
has "Kết quả: $verdict ("
note "signed by podofosign: the PDF report reads “$verdict” with the signer's Vietnamese name"

# --- 2. a flipped byte -----------------------------------------------------------------------------
python3 - "$D/signed.pdf" "$D/tampered.pdf" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.index(b"Cong van so 15")
data[at] = ord("D")
open(sys.argv[2], "wb").write(data)
EOF
run_kyso verify "$D/tampered.pdf" "${VERIFY[@]}" --format pdf --out "$D/tampered-report.pdf"
((RC != 0)) || fail "a tampered PDF verified"
pdf_text "$D/tampered-report.pdf"
has "không hợp lệ"
note "a flipped byte: “không hợp lệ”"

# --- 3. deterministic; stdout ------------------------------------------------------------------------
run_kyso verify "$D/signed.pdf" "${VERIFY[@]}" --format pdf --out "$D/again.pdf"
cmp -s "$D/report.pdf" "$D/again.pdf" || fail "the same --at gave different bytes"
OUT="$D/stdout.pdf" run_kyso verify "$D/signed.pdf" "$D/tampered.pdf" "${VERIFY[@]}" --format pdf
[[ $(head -c 5 "$D/stdout.pdf") == "%PDF-" ]] || fail "stdout is not a PDF: $(head -c 200 "$D/stdout.pdf")"
pdf_text "$D/stdout.pdf"
has "2 tệp:"
note "same --at, same bytes; --format pdf without --out writes the PDF to stdout"

# --- 4. a shadow attack (EU DSS sample, when the shared test data is there) ------------------------
hide="$REPO/../shared/testdata/dss-signatures/pades/dss-2236/hide.pdf"
if [[ -f $hide ]]; then
  run_kyso verify "$hide" "${VERIFY[@]}" --format pdf --out "$D/hide-report.pdf"
  pdf_text "$D/hide-report.pdf"
  has "CẢNH BÁO: nội dung đã bị thay đổi sau khi ký"
  note "DSS hide.pdf: the report warns “nội dung đã bị thay đổi sau khi ký”"
fi

# --- 5. unknown format -------------------------------------------------------------------------------
run_kyso verify "$D/signed.pdf" "${VERIFY[@]}" --format docx
((RC != 0)) || fail "--format docx accepted"
grep -qF "hoặc pdf" "$ERR" || fail "--format docx: $(cat "$ERR")"

pass "R6.3 PDF report: qpdf-valid, Vietnamese extractable, deterministic"
