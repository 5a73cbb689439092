# shellcheck shell=bash
# The PDF signature attacks of the PDF-Insecurity research, each crafted here from a PDF kyso
# signed, and named by `kyso verify` in its report:
#   1. incremental saving (ISA): a later revision draws new page content: the signature keeps
#      its cryptographic result, the revision is page_content, not allowed, attack
#      incremental_saving, and the report warns "nội dung đã bị thay đổi sau khi ký";
#   2. shadow attacks (Mainka, Mladenov, Rohlmann, NDSS 2021), each told apart by what the
#      later revision does with what the signed revision already held (shadowpdf.py crafts a
#      document prepared for them, kyso signs it):
#        shadow_replace: an object shown when signed is redefined in place (the signed content
#          stream rewritten; a font redefined so that "100" reads "900");
#        shadow_hide: an overlay shown when signed is emptied, uncovering the text under it;
#        shadow_hide_and_replace: the page re-pointed to a content stream that was in the
#          signed revision but drawn by no page (no new content);
#   3. signature wrapping (SWA): the ByteRange is rewritten so that its gap is not the
#      signature's /Contents: TOTAL-FAILED/FORMAT_FAILURE, "signature wrapping";
#   4. universal signature forgery (USF): /Contents emptied: TOTAL-FAILED, "universal signature
#      forgery";
#   5. pages added after signing (as DSS does): TOTAL-FAILED/FORMAT_FAILURE.
#
# usage: bash attacks_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
# shellcheck source=sign_setup.sh
source "$(dirname "$0")/sign_setup.sh"
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }

ok sign pdf "$D/doc.pdf" --out "$D/signed.pdf" --home "$H" "${TOKEN[@]}"
# Not normalised by qpdf: that would drop the hidden content stream no page draws.
python3 "$(dirname "$0")/shadowpdf.py" base "$D/shadow-base.pdf" || fail "cannot write the shadow base PDF"
ok sign pdf "$D/shadow-base.pdf" --out "$D/shadow-signed.pdf" --home "$H" "${TOKEN[@]}"

# craft.py MODE IN OUT: appends an incremental update (classic xref table) or edits in place.
cat >"$WORK/craft.py" <<'PY'
import re, sys
from pdfbytes import append_update, latest, stream
mode, src, dst = sys.argv[1:4]
data = bytearray(open(src, "rb").read())
text = data.decode("latin-1")
_, size, _, objects = latest(data)  # the latest version of every object (no object streams)
page_num = [n for n, body in objects.items() if re.search(r"/Type /Page(?!s)", body)][-1]
page_body = objects[page_num]
contents = int(re.search(r"/Contents (\d+) 0 R", page_body).group(1))

def update(objects):
    return append_update(data, objects)

if mode == "isa":      # a new content stream, and a new version of the page drawing it too
    extra = size
    new_page = page_body.replace("/Contents %d 0 R" % contents, "/Contents [%d 0 R %d 0 R]" % (contents, extra))
    out = update([(extra, stream(b"BT /F1 24 Tf 72 400 Td (DA THANH TOAN) Tj ET")), (page_num, new_page.encode("latin-1"))])
elif mode == "shadow":  # the signed content stream itself, replaced
    out = update([(contents, stream(b"BT /F1 24 Tf 72 400 Td (NOI DUNG KHAC) Tj ET"))])
elif mode == "pages":   # a second page: the page tree changes
    pages = int(re.search(r"/Pages (\d+) 0 R", text).group(1))
    pages_body = objects[pages]
    extra = size
    kids = re.search(r"/Kids \[([^\]]*)\]", pages_body).group(1)
    new_pages = pages_body.replace("/Kids [%s]" % kids, "/Kids [%s %d 0 R ]" % (kids.rstrip(), extra))
    new_pages = re.sub(r"/Count \d+", "/Count 2", new_pages)
    out = update([(extra, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % pages), (pages, new_pages.encode("latin-1"))])
elif mode == "swa":     # the ByteRange's gap moved off /Contents (same width, nothing else moves)
    m = re.search(rb"/ByteRange \[0 (\d+) (\d+) (\d+)\]", data)
    a, b, c = (int(x) for x in m.groups())
    forged = b"[0 %d %d %d]" % (a - 10, b, c + 0)
    old = data[m.start(0) + 11:m.end(0)]
    data[m.start(0) + 11:m.end(0)] = forged.ljust(len(old))
    out = data
elif mode == "usf":     # /Contents emptied (zeros), nothing else changed
    m = re.search(rb"/Contents <([0-9a-fA-F]+)>", data)
    data[m.start(1):m.end(1)] = b"0" * (m.end(1) - m.start(1))
    out = data
open(dst, "wb").write(out)
PY

verify_json() {  # FILE OUT.json: kyso verify exits 0 or 1, never anything else
  run_kyso verify "$1" --home "$H" --format json --out "$2"
  ((RC <= 1)) || fail "kyso verify $1 exited $RC: $(cat "$ERR")"
}

for mode in isa shadow pages swa usf; do
  PYTHONPATH="$(dirname "$0")" python3 "$WORK/craft.py" "$mode" "$D/signed.pdf" "$D/$mode.pdf" || fail "cannot craft the $mode attack"
  verify_json "$D/$mode.pdf" "$D/$mode.json"
done
for mode in hide replace hide_and_replace; do
  python3 "$(dirname "$0")/shadowpdf.py" "$mode" "$D/shadow-signed.pdf" "$D/shadow_$mode.pdf" ||
    fail "cannot craft the shadow $mode attack"
  verify_json "$D/shadow_$mode.pdf" "$D/shadow_$mode.json"
done

[[ $(json_get "$D/isa.json" 'd["signatures"][0]["modificationsAfter"][0]["attack"]') == incremental_saving ]] ||
  fail "ISA not named: $(cat "$D/isa.json")"
[[ $(json_get "$D/isa.json" 'd["signatures"][0]["modificationsAfter"][0]["allowed"]') == False ]] || fail "ISA allowed"
run_kyso verify "$D/isa.pdf" --home "$H"
grep -q "nội dung đã bị thay đổi sau khi ký" "$OUT" || fail "ISA: no warning for people: $(cat "$OUT")"
[[ $(json_get "$D/shadow.json" 'd["signatures"][0]["modificationsAfter"][0]["attack"]') == shadow_replace ]] ||
  fail "shadow (content stream rewritten) not named shadow_replace: $(cat "$D/shadow.json")"
for mode in hide replace hide_and_replace; do
  [[ $(json_get "$D/shadow_$mode.json" 'd["signatures"][0]["modificationsAfter"][0]["attack"]') == "shadow_$mode" ]] ||
    fail "shadow $mode not named shadow_$mode: $(cat "$D/shadow_$mode.json")"
  [[ $(json_get "$D/shadow_$mode.json" 'd["signatures"][0]["modificationsAfter"][0]["allowed"]') == False ]] ||
    fail "shadow $mode allowed: $(cat "$D/shadow_$mode.json")"
done
[[ $(json_get "$D/pages.json" 'd["signatures"][0]["indication"] + "/" + d["signatures"][0]["subIndication"]') == TOTAL-FAILED/FORMAT_FAILURE ]] ||
  fail "pages added: $(cat "$D/pages.json")"
[[ $(json_get "$D/swa.json" 'd["signatures"][0]["indication"]') == TOTAL-FAILED ]] || fail "SWA: $(cat "$D/swa.json")"
grep -q "signature wrapping" "$D/swa.json" || fail "SWA not named: $(cat "$D/swa.json")"
[[ $(json_get "$D/usf.json" 'd["signatures"][0]["indication"]') == TOTAL-FAILED ]] || fail "USF: $(cat "$D/usf.json")"
grep -q "universal signature forgery" "$D/usf.json" || fail "USF not named: $(cat "$D/usf.json")"

finish_checks
pass "incremental saving, shadow hide/replace/hide-and-replace, pages added, signature wrapping and universal forgery: each detected and named"
