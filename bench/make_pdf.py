#!/usr/bin/env python3
"""make_pdf.py — a test PDF of about SIZE bytes for bench/sign_pdf.sh.

usage: make_pdf.py OUT SIZE_BYTES [PAGES]

Writes PAGES pages (default: one per MiB, at least 2), each showing one line of Helvetica
text and an uncompressed DeviceRGB image of random bytes, so the file is incompressible and
its size is almost all image data. Classic cross-reference table, one object per line of it,
PDF 1.7; `qpdf --check` passes. The bytes are the same for the same arguments (seeded).
"""
import random
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    out_path, size = sys.argv[1], int(sys.argv[2])
    pages = int(sys.argv[3]) if len(sys.argv) == 4 else max(2, round(size / (1 << 20)))
    rng = random.Random(20261125)
    width = 512
    # Image bytes per page, rounded down to whole rows of RGB pixels.
    rows = max(1, (size - 2000 * pages) // pages // (width * 3))
    img_len = rows * width * 3

    offsets = []
    with open(out_path, "wb") as f:
        pos = 0

        def put(data):
            nonlocal pos
            f.write(data)
            pos += len(data)

        def obj(num, body, stream=None):
            offsets.append((num, pos))
            put(b"%d 0 obj\n" % num + body)
            if stream is not None:
                put(b"\nstream\n")
                # Large streams are written in chunks to keep this script's memory small.
                if callable(stream):
                    stream(put)
                else:
                    put(stream)
                put(b"\nendstream")
            put(b"\nendobj\n")

        put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        # 1 catalog, 2 pages, 3 font; page i: 4+3i page, 5+3i content, 6+3i image.
        kids = b" ".join(b"%d 0 R" % (4 + 3 * i) for i in range(pages))
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(2, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages)
        obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for i in range(pages):
            p, c, im = 4 + 3 * i, 5 + 3 * i, 6 + 3 * i
            obj(p, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                   b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im0 %d 0 R >> >> >>" % (c, im))
            text = (b"q 495 0 0 %d 50 60 cm /Im0 Do Q BT /F1 14 Tf 72 800 Td "
                    b"(Trang %d / %d - tai lieu thu nghiem) Tj ET" % (min(700, rows), i + 1, pages))
            obj(c, b"<< /Length %d >>" % len(text), text)

            def image(write, n=img_len):
                chunk = 1 << 20
                while n > 0:
                    k = min(chunk, n)
                    write(rng.randbytes(k))
                    n -= k

            obj(im, b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                    b"/BitsPerComponent 8 /Length %d >>" % (width, rows, img_len), image)
        num_objs = 3 + 3 * pages
        xref = pos
        put(b"xref\n0 %d\n0000000000 65535 f \n" % (num_objs + 1))
        for _, off in sorted(offsets):
            put(b"%010d 00000 n \n" % off)
        put(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (num_objs + 1, xref))


if __name__ == "__main__":
    main()
