"""pdfbytes: writing PDFs and incremental updates byte by byte (classic cross-reference
tables, no object streams), with the Python standard library only, so that the interop tests
make their inputs and attacks without kyso.

  write_pdf(objs, trailer_extra=b"")    -> a whole PDF; objs[i] is the body of object i + 1
  latest(data)                          -> the last revision's startxref, /Size, /Root and the
                                           latest body of every object written in the file
  append_update(data, objects)          -> data plus one incremental update rewriting or adding
                                           the (number, body) pairs in `objects`
  stream(content, extra=b"")            -> a stream object's body
"""
import re


def stream(content, extra=b""):
    return b"<< " + extra + b"/Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def write_pdf(objs, trailer_extra=b""):
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, trailer_extra, xref)
    return out


def latest(data):
    text = bytes(data).decode("latin-1")
    prev = int(re.findall(r"startxref\s+(\d+)", text)[-1])
    size = max(int(x) for x in re.findall(r"/Size (\d+)", text))
    root = re.findall(r"/Root (\d+ \d+ R)", text)[-1]
    objects = {}
    for m in re.finditer(r"(\d+) 0 obj\s*(.*?)\s*endobj", text, re.S):
        objects[int(m.group(1))] = m.group(2)
    return prev, size, root, objects


def append_update(data, objects):
    prev, size, root, _ = latest(data)
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets = {}
    for num, body in objects:
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n"
    for num in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    new_size = max([size] + [n + 1 for n in offsets])
    out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (new_size, root.encode(), prev, xref)
    return out
