# shellcheck shell=bash
# The visible signature of Decree 30/2020 (R30.1-R30.3), judged by rendering with poppler:
#   1. R30.1: a person signs with a blue signature image placed between the position title
#      ("GIAM DOC") and the name ("Nguyen Van An") found on the page;
#   2. R30.2: the agency then signs with a red seal at its real size (from the PNG's DPI);
#      `pdftoppm` renders page 1 and the blue and red pixels are where kyso said it put them,
#      the seal's right edge at one third of the person's box, over the left of the signature;
#   3. R30.3: a copy is signed with no image and a stamp at the top right of page 1 in Liberation
#      Serif 10 (Times New Roman metrics, embedded subset): `pdftotext -bbox` finds the form of
#      copy, the copying agency (with its diacritics) and the ISO 8601 +07:00 time there;
#   4. pdfsig: every signature valid and trusted; qpdf --check clean; refusals (agency before
#      any person, a copy with an image, an anchor that is not there) write nothing.
#
# usage: bash appearance_R30_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
# shellcheck source=sign_setup.sh
source "$(dirname "$0")/sign_setup.sh"
command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null && command -v pdffonts >/dev/null ||
  fail "poppler-utils is not installed (scripts/setup.sh)"

# Fixtures: a blue signature on transparency, a red seal ring at 300 DPI (400 px = 96 pt), and
# a letter whose signature block reads "GIAM DOC" above "Nguyen Van An".
python3 "$(dirname "$0")/mkpdf.py" "$D/letter.pdf" "BT /F1 14 Tf 72 760 Td (UY BAN NHAN DAN TINH DONG NAI) Tj ET
BT /F1 12 Tf 72 700 Td (Quyet dinh ve viec cap chung thu so) Tj ET
BT /F1 12 Tf 380 300 Td (GIAM DOC) Tj ET
BT /F1 12 Tf 360 200 Td (Nguyen Van An) Tj ET"
python3 - "$D" <<'PY'
import math, struct, sys, zlib
d = sys.argv[1]
def png(path, w, h, pixel, dpi=None):
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw += bytes(pixel(x, y))
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    if dpi:
        ppm = round(dpi / 0.0254)
        out += chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    out += chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    open(path, "wb").write(out)
def signature(x, y):  # a thick blue wave across the image, transparent elsewhere
    on = abs(y - (50 + 30 * math.sin(x / 25))) < 6
    return (20, 40, 200, 255) if on else (255, 255, 255, 0)
png(d + "/sig.png", 300, 100, signature)
def seal(x, y):  # a red ring with a red star-ish centre disc
    r = math.hypot(x - 200, y - 200)
    on = 170 < r < 195 or r < 60
    return (220, 20, 30, 255) if on else (255, 255, 255, 0)
png(d + "/seal.png", 400, 400, seal, dpi=300)
PY

box_of() { sed -n 's/^visible on page \([0-9]*\) at \(.*\)$/\1 \2/p' "$OUT"; }

# --- 1. R30.1: the person ---------------------------------------------------------------------
ok sign pdf "$D/letter.pdf" --out "$D/person.pdf" --home "$H" "${TOKEN[@]}" --image "$D/sig.png" \
  --anchor "Nguyen Van An" --title "GIAM DOC"
read -r PERSON_PAGE PERSON_BOX < <(box_of)
[[ $PERSON_PAGE == 1 && -n $PERSON_BOX ]] || fail "no box reported for the person: $(cat "$OUT")"

# --- 2. R30.2: the agency, after the person -------------------------------------------------
refused "agency seal before any person" "R30.2" sign pdf "$D/letter.pdf" --out "$D/x.pdf" --home "$H" "${P12[@]}" \
  --appearance agency --image "$D/seal.png"
ok sign pdf "$D/person.pdf" --out "$D/agency.pdf" --home "$H" "${P12[@]}" --appearance agency --image "$D/seal.png"
read -r SEAL_PAGE SEAL_BOX < <(box_of)
[[ $SEAL_PAGE == 1 && -n $SEAL_BOX ]] || fail "no box reported for the seal: $(cat "$OUT")"
pdftoppm -r 72 -f 1 -l 1 -singlefile "$D/agency.pdf" "$D/agency" || fail "pdftoppm cannot render agency.pdf"
python3 - "$D/agency.ppm" "$PERSON_BOX" "$SEAL_BOX" <<'PY' || fail "the rendered signature and seal are not where R30.1/R30.2 want them"
import sys
data = open(sys.argv[1], "rb").read()
parts = data.split(maxsplit=4)
assert parts[0] == b"P6", parts[0]
w, h = int(parts[1]), int(parts[2])
px = parts[4]
px = data[len(data) - w * h * 3:]
person = [float(v) for v in sys.argv[2].split(",")]
seal = [float(v) for v in sys.argv[3].split(",")]
def bbox(pred):
    xs, ys = [], []
    for y in range(h):
        row = px[y * w * 3:(y + 1) * w * 3]
        for x in range(w):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            if pred(r, g, b):
                xs.append(x); ys.append(y)
    assert xs, "no such pixels"
    # To PDF points (72 dpi, origin bottom left): x, y, right, top.
    return min(xs), h - 1 - max(ys), max(xs) + 1, h - min(ys)
blue = bbox(lambda r, g, b: b > 150 and r < 90 and g < 110)
red = bbox(lambda r, g, b: r > 150 and g < 90 and b < 90)
px_, py_, pw, ph = person
sx, sy, sw, sh = seal
tol = 2.5
# The signature lies in the person's box, the seal in its own box.
assert px_ - tol <= blue[0] and blue[2] <= px_ + pw + tol and py_ - tol <= blue[1] and blue[3] <= py_ + ph + tol, (blue, person)
assert sx - tol <= red[0] and red[2] <= sx + sw + tol and sy - tol <= red[1] and red[3] <= sy + sh + tol, (red, seal)
# Real size: 400 px at 300 dpi is 96 pt; the ring fills the image but for its margin.
assert abs(sw - 96) < 0.5 and abs(sh - 96) < 0.5, seal
assert red[2] - red[0] > 90, red
# R30.2: the seal's right edge at one third of the person's box, centred on it vertically, so
# it covers the left of the signature and the signature shows to its right.
assert abs((sx + sw) - (px_ + pw / 3)) < 0.5, (seal, person)
assert abs((sy + sh / 2) - (py_ + ph / 2)) < 0.5, (seal, person)
assert red[0] < blue[0] < red[2] < blue[2], (red, blue)
print("blue", blue, "red", red)
PY
note "R30.1/R30.2: pdftoppm shows the blue signature in its box and the red seal over its left third"

# --- 3. R30.3: a copy -------------------------------------------------------------------------
refused "a copy with an image" "R30.3" sign pdf "$D/letter.pdf" --out "$D/x.pdf" --home "$H" "${P12[@]}" \
  --appearance copy --copy-form "Sao y bản chính" --image "$D/sig.png"
ok sign pdf "$D/letter.pdf" --out "$D/copy.pdf" --home "$H" "${P12[@]}" --appearance copy \
  --copy-form "Sao y bản chính" --copy-agency "Sở Khoa học và Công nghệ"
pdftotext -f 1 -l 1 -bbox "$D/copy.pdf" "$D/copy.html" || fail "pdftotext cannot read copy.pdf"
python3 - "$D/copy.html" <<'PY' || fail "the copy stamp is not at the top right of page 1: $(cat "$D/copy.html")"
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in
         re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]
iso = [w for w in words if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", w[4])]
assert len(iso) == 1, words
stamp = [w for w in words if w[1] < 66]  # the top margin (y from the top here; the letter starts at 72)
text = " ".join(w[4] for w in stamp)
assert "Sao y bản chính" in text and "Sở Khoa học và Công nghệ" in text, text
for w in stamp:
    assert w[0] > 595 / 2, w                 # right half
right = max(w[2] for w in stamp)
assert abs(right - (595 - 56.69)) < 3, right  # 20 mm from the right edge
assert iso[0][1] < 80, iso                  # near the top
PY
pdffonts "$D/copy.pdf" >"$WORK/fonts.txt" 2>&1
grep -q "LiberationSerif.*CID TrueType.*yes yes" "$WORK/fonts.txt" || fail "the stamp's font is not an embedded subset: $(cat "$WORK/fonts.txt")"
note "R30.3: pdftotext finds the copy stamp and the ISO 8601 time at the top right, Liberation Serif subset embedded"

# --- 4. a landscape page made by /Rotate 90: placed and drawn as the reader sees the page -----
# The text is drawn turned so it reads upright once the page is turned: "GIAM DOC" at (500,300)
# and "Nguyen Van An" at (480,200) in the displayed page's coordinates.
ROTATE=90 python3 "$(dirname "$0")/mkpdf.py" "$D/landscape.pdf" "BT /F1 12 Tf 0 1 -1 0 295 500 Tm (GIAM DOC) Tj ET
BT /F1 12 Tf 0 1 -1 0 395 480 Tm (Nguyen Van An) Tj ET"
ok sign pdf "$D/landscape.pdf" --out "$D/l-person.pdf" --home "$H" "${TOKEN[@]}" --image "$D/sig.png" \
  --anchor "Nguyen Van An" --title "GIAM DOC"
ok sign pdf "$D/l-person.pdf" --out "$D/l-agency.pdf" --home "$H" "${P12[@]}" --appearance agency --image "$D/seal.png"
ok sign pdf "$D/l-agency.pdf" --out "$D/l-copy.pdf" --home "$H" "${P12[@]}" --appearance copy --doc-number "Số 45/QĐ-UBND"
pdftoppm -r 72 -f 1 -l 1 -singlefile "$D/l-copy.pdf" "$D/landscape" || fail "pdftoppm cannot render l-copy.pdf"
pdftotext -f 1 -l 1 -bbox "$D/l-copy.pdf" "$D/landscape.html" || fail "pdftotext cannot read l-copy.pdf"
python3 - "$D/landscape.ppm" "$D/landscape.html" <<'PY' || fail "on a rotated page the signature, seal or stamp is not upright where it belongs"
import re, sys
data = open(sys.argv[1], "rb").read()
head = data.split(maxsplit=4)
w, h = int(head[1]), int(head[2])
assert (w, h) == (842, 595), (w, h)  # rendered as displayed: landscape
px = data[len(data) - w * h * 3:]
def bbox(pred):  # in the displayed page's coordinates, y from the top
    xs, ys = [], []
    for y in range(h):
        row = px[y * w * 3:(y + 1) * w * 3]
        for x in range(w):
            if pred(row[3 * x], row[3 * x + 1], row[3 * x + 2]):
                xs.append(x); ys.append(y)
    assert xs, "no such pixels"
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1
blue = bbox(lambda r, g, b: b > 150 and r < 90 and g < 110)
red = bbox(lambda r, g, b: r > 150 and g < 90 and b < 90)
html = open(sys.argv[2], encoding="utf-8").read()
words = {t: (float(a), float(b), float(c), float(d)) for a, b, c, d, t in
         re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)}
# Upright: the wave (300 x 100 px) is wider than tall; the seal is square.
assert blue[2] - blue[0] > 2 * (blue[3] - blue[1]), blue
assert abs((red[2] - red[0]) - (red[3] - red[1])) < 3, red
# Between the title (above) and the name (below), as displayed.
assert words["GIAM"][3] <= blue[1] + 1 and blue[3] <= words["Nguyen"][1] + 1, (blue, words["GIAM"], words["Nguyen"])
# The seal over the left part of the signature.
assert red[0] < blue[0] < red[2] < blue[2], (red, blue)
# The copy stamp, upright, at the top right of the displayed page.
iso = [k for k in words if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", k)]
assert len(iso) == 1, words
x0, y0, x1, y1 = words[iso[0]]
assert x1 - x0 > 5 * (y1 - y0), words[iso[0]]  # reads left to right
assert abs(x1 - (842 - 56.69)) < 3 and y0 < 80, words[iso[0]]
assert "45/QĐ-UBND" in words, words
PY
note "a /Rotate 90 page: signature, seal and copy stamp upright where the reader expects them"

# --- 5. judges and refusals -------------------------------------------------------------------
for f in person agency copy; do
  qpdf --check "$D/$f.pdf" >"$WORK/qpdf.txt" 2>&1 || fail "qpdf --check $f.pdf: $(cat "$WORK/qpdf.txt")"
done
pdfsig -nssdir "sql:$WORK/nss" "$D/agency.pdf" >"$WORK/pdfsig.txt" 2>&1 || true
[[ $(grep -c "Signature is Valid." "$WORK/pdfsig.txt") == 2 && $(grep -c "Certificate is Trusted." "$WORK/pdfsig.txt") == 2 ]] ||
  fail "pdfsig on agency.pdf: $(cat "$WORK/pdfsig.txt")"
refused "anchor not in the document" "không tìm thấy" sign pdf "$D/letter.pdf" --out "$D/x.pdf" --home "$H" "${TOKEN[@]}" \
  --image "$D/sig.png" --anchor "Tran Thi B"
refused "not a PNG" "PNG" sign pdf "$D/letter.pdf" --out "$D/x.pdf" --home "$H" "${TOKEN[@]}" --image "$D/letter.pdf" --rect 1,1,10,10
[[ ! -e $D/x.pdf ]] || fail "a refused signature wrote x.pdf"

finish_checks
pass "Decree 30 appearance: signature, seal over its left third, copy stamp (pdftoppm, pdftotext, pdffonts, pdfsig)"
