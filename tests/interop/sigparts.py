#!/usr/bin/env python3
"""sigparts: takes a signature apart with nothing but the Python standard library, so that
openssl can judge each piece without kyso's help.

usage:
  sigparts.py cms FILE.p7s OUTDIR   -> OUTDIR/sigvalue.bin (the SignerInfo's signature value)
                                       and OUTDIR/tst0.der, tst1.der... (signature timestamps),
                                       prints "version crls certificates tokens"
  sigparts.py pdf FILE.pdf OUTDIR   -> for each signature dictionary i, in file order:
                                       OUTDIR/sigI.der (/Contents, trailing zeros removed),
                                       OUTDIR/sigI.data (the bytes /ByteRange covers),
                                       OUTDIR/sigI.type ("Sig" or "DocTimeStamp"); prints the count
  sigparts.py xades FILE.xml OUTDIR -> OUTDIR/sigvalue.c14n (exclusive C14N of ds:SignatureValue,
                                       re-done by Python's xml.etree canonicalize) and
                                       OUTDIR/tst0.der... from xades:EncapsulatedTimeStamp
"""
import base64
import os
import re
import sys

TST_OID = bytes.fromhex("060b2a864886f70d010910020e")  # id-aa-signatureTimeStampToken


def tlv(buf, i):
    """Returns (tag, content_start, content_end) of the DER element at i."""
    tag = buf[i]
    n = buf[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[j:j + k], "big")
        j += k
    return tag, j, j + n


def children(buf, start, end):
    out = []
    i = start
    while i < end:
        t, s, e = tlv(buf, i)
        out.append((t, i, s, e))
        i = e
    return out


def cms(path, outdir):
    buf = open(path, "rb").read()
    _, s, e = tlv(buf, 0)  # ContentInfo
    ci = children(buf, s, e)
    _, s, e = tlv(buf, ci[1][2])  # [0] -> SignedData
    sd = children(buf, s, e)
    version = buf[sd[0][2]]
    crls = sum(1 for c in sd if c[0] == 0xA1)
    certs = [c for c in sd if c[0] == 0xA0]
    ncerts = len(children(buf, certs[0][2], certs[0][3])) if certs else 0
    infos = children(buf, sd[-1][2], sd[-1][3])
    si = children(buf, infos[0][2], infos[0][3])
    sig = [c for c in si if c[0] == 0x04][0]
    open(os.path.join(outdir, "sigvalue.bin"), "wb").write(buf[sig[2]:sig[3]])
    tokens = 0
    unsigned = [c for c in si if c[0] == 0xA1]
    if unsigned:
        for attr in children(buf, unsigned[0][2], unsigned[0][3]):
            parts = children(buf, attr[2], attr[3])
            if buf[parts[0][1]:parts[0][3]] == TST_OID:
                for value in children(buf, parts[1][2], parts[1][3]):
                    open(os.path.join(outdir, "tst%d.der" % tokens), "wb").write(buf[value[1]:value[3]])
                    tokens += 1
    print(version, crls, ncerts, tokens)


def pdf(path, outdir):
    buf = open(path, "rb").read()
    count = 0
    for m in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", buf):
        a, b, c, d = (int(x) for x in m.groups())
        contents = buf[a + b:c]
        assert contents[:1] == b"<" and contents[-1:] == b">", "ByteRange gap is not /Contents"
        der = bytes.fromhex(contents[1:-1].decode())
        _, s, e = tlv(der, 0)
        open(os.path.join(outdir, "sig%d.der" % count), "wb").write(der[:e])
        open(os.path.join(outdir, "sig%d.data" % count), "wb").write(buf[a:a + b] + buf[c:c + d])
        # The dictionary holding this /ByteRange: look back for its /Type.
        start = buf.rfind(b" obj", 0, m.start())
        kind = b"DocTimeStamp" if b"/DocTimeStamp" in buf[start:m.start()] else b"Sig"
        open(os.path.join(outdir, "sig%d.type" % count), "wb").write(kind)
        count += 1
    print(count)


def xades(path, outdir):
    import xml.etree.ElementTree as ET
    text = open(path, "rb").read().decode("utf-8")
    ds = "http://www.w3.org/2000/09/xmldsig#"
    m = re.search(r"<(\w+:)?SignatureValue[\s\S]*?</(\w+:)?SignatureValue>", text)
    elem = m.group(0)
    prefix = m.group(1) or ""
    # Exclusive C14N of the element alone: only the namespace it uses is declared.
    decl = ' xmlns:%s="%s"' % (prefix[:-1], ds) if prefix else ' xmlns="%s"' % ds
    elem = re.sub(r"^<(\w+:)?SignatureValue", lambda g: "<" + (g.group(1) or "") + "SignatureValue" + decl, elem, 1)
    c14n = ET.canonicalize(elem, strip_text=False)
    open(os.path.join(outdir, "sigvalue.c14n"), "wb").write(c14n.encode("utf-8"))
    tokens = 0
    for t in re.findall(r"<(?:\w+:)?EncapsulatedTimeStamp[^>]*>([^<]*)<", text):
        open(os.path.join(outdir, "tst%d.der" % tokens), "wb").write(base64.b64decode(t))
        tokens += 1
    print(tokens)


if __name__ == "__main__":
    {"cms": cms, "pdf": pdf, "xades": xades}[sys.argv[1]](sys.argv[2], sys.argv[3])
