#!/usr/bin/env python3
"""mkpdf: writes a one-page A4 PDF by hand (classic cross-reference table, Helvetica as /F1),
so that the signing tests do not depend on kyso to make their inputs.

usage: [ROTATE=90] mkpdf.py OUT.pdf CONTENT [KEYWORDS]
  CONTENT   the page's content stream, e.g. "BT /F1 14 Tf 72 760 Td (Cong van) Tj ET"
  KEYWORDS  optional Info /Keywords (any Unicode: written as UTF-16BE)
"""
import os
import sys

from pdfbytes import write_pdf

out_path, content = sys.argv[1], sys.argv[2].encode("latin-1")
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate %d /Contents 4 0 R "
        % int(os.environ.get("ROTATE", "0")) +
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
trailer_extra = b""
if len(sys.argv) > 3:
    keywords = sys.argv[3].encode("utf-16-be").hex().upper().encode()
    objs.append(b"<< /Title (Cong van) /Keywords <FEFF" + keywords + b"> >>")
    trailer_extra = b" /Info 5 0 R"
open(out_path, "wb").write(write_pdf(objs, trailer_extra))
