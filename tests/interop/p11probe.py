#!/usr/bin/env python3
"""p11probe: tries to get private key material out of a PKCS#11 token, straight through the
Cryptoki C API (ctypes), independent of kyso and of pkcs11-tool.

usage: SOFTHSM2_CONF=... python3 p11probe.py MODULE TOKEN_LABEL PIN_FILE LABEL...

For each private key LABEL it checks CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=FALSE,
CKA_ALWAYS_SENSITIVE=TRUE, CKA_NEVER_EXTRACTABLE=TRUE, that reading CKA_VALUE /
CKA_PRIVATE_EXPONENT / CKA_PRIME_1 is refused with CKR_ATTRIBUTE_SENSITIVE, and that wrapping
the key under a fresh session AES key is refused. Prints one line per key; exits 1 on the first
failure with a FAIL line.
"""
import ctypes
import sys

CK_ULONG = ctypes.c_ulong
CK_UNAVAILABLE = CK_ULONG(-1).value

CKR = {0x0: "CKR_OK", 0x11: "CKR_ATTRIBUTE_SENSITIVE", 0x12: "CKR_ATTRIBUTE_TYPE_INVALID",
       0x68: "CKR_KEY_FUNCTION_NOT_PERMITTED", 0x69: "CKR_KEY_NOT_WRAPPABLE",
       0x6A: "CKR_KEY_UNEXTRACTABLE", 0x70: "CKR_MECHANISM_INVALID"}

CKA_CLASS, CKA_TOKEN, CKA_LABEL, CKA_VALUE = 0x0, 0x1, 0x3, 0x11
CKA_KEY_TYPE, CKA_SENSITIVE, CKA_WRAP = 0x100, 0x103, 0x106
CKA_PRIVATE_EXPONENT, CKA_PRIME_1 = 0x123, 0x124
CKA_VALUE_LEN, CKA_EXTRACTABLE = 0x161, 0x162
CKA_NEVER_EXTRACTABLE, CKA_ALWAYS_SENSITIVE = 0x164, 0x165
CKO_PRIVATE_KEY, CKO_SECRET_KEY, CKK_AES = 3, 4, 0x1F
CKM_AES_KEY_GEN, CKM_AES_KEY_WRAP_PAD = 0x1080, 0x210A


class Attr(ctypes.Structure):
    _fields_ = [("type", CK_ULONG), ("pValue", ctypes.c_void_p), ("ulValueLen", CK_ULONG)]


class Mech(ctypes.Structure):
    _fields_ = [("mechanism", CK_ULONG), ("pParameter", ctypes.c_void_p),
                ("ulParameterLen", CK_ULONG)]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def name(rv):
    return CKR.get(rv, hex(rv))


def template(pairs):
    """pairs: (type, bytes) -> (array, keepalive)."""
    arr = (Attr * len(pairs))()
    keep = []
    for i, (t, v) in enumerate(pairs):
        buf = ctypes.create_string_buffer(v, len(v))
        keep.append(buf)
        arr[i] = Attr(t, ctypes.cast(buf, ctypes.c_void_p), len(v))
    return arr, keep


def ulong(v):
    return bytes(CK_ULONG(v))


def main():
    module, token_label, pin_file, labels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    pin = open(pin_file, "rb").read().strip()
    lib = ctypes.CDLL(module)
    for fn in ("C_Initialize", "C_GetSlotList", "C_GetTokenInfo", "C_OpenSession", "C_Login",
               "C_FindObjectsInit", "C_FindObjects", "C_FindObjectsFinal", "C_GetAttributeValue",
               "C_GenerateKey", "C_WrapKey", "C_Logout", "C_CloseSession", "C_Finalize"):
        getattr(lib, fn).restype = CK_ULONG
    rv = lib.C_Initialize(None)
    if rv:
        fail("C_Initialize: " + name(rv))
    n = CK_ULONG(0)
    lib.C_GetSlotList(1, None, ctypes.byref(n))
    slots = (CK_ULONG * n.value)()
    lib.C_GetSlotList(1, slots, ctypes.byref(n))
    slot = None
    for s in slots[: n.value]:
        info = ctypes.create_string_buffer(1024)  # CK_TOKEN_INFO begins with label[32]
        if lib.C_GetTokenInfo(CK_ULONG(s), info) == 0:
            if info.raw[:32].decode("utf-8", "replace").rstrip() == token_label:
                slot = s
    if slot is None:
        fail("no token labelled " + token_label)
    h = CK_ULONG(0)
    rv = lib.C_OpenSession(CK_ULONG(slot), CK_ULONG(0x6), None, None, ctypes.byref(h))
    if rv:
        fail("C_OpenSession: " + name(rv))
    rv = lib.C_Login(h, CK_ULONG(1), pin, CK_ULONG(len(pin)))
    if rv:
        fail("C_Login: " + name(rv))

    # A session-only AES key that may wrap: the usual way to export a key from a token.
    mech = Mech(CKM_AES_KEY_GEN, None, 0)
    tmpl, keep = template([(CKA_CLASS, ulong(CKO_SECRET_KEY)), (CKA_KEY_TYPE, ulong(CKK_AES)),
                           (CKA_VALUE_LEN, ulong(32)), (CKA_WRAP, b"\x01"), (CKA_TOKEN, b"\x00")])
    wrapping = CK_ULONG(0)
    rv = lib.C_GenerateKey(h, ctypes.byref(mech), tmpl, CK_ULONG(len(tmpl)), ctypes.byref(wrapping))
    if rv:
        fail("C_GenerateKey (session AES wrapping key): " + name(rv))

    for label in labels:
        tmpl, keep = template([(CKA_CLASS, ulong(CKO_PRIVATE_KEY)), (CKA_LABEL, label.encode())])
        rv = lib.C_FindObjectsInit(h, tmpl, CK_ULONG(len(tmpl)))
        objs = (CK_ULONG * 4)()
        count = CK_ULONG(0)
        lib.C_FindObjects(h, objs, CK_ULONG(4), ctypes.byref(count))
        lib.C_FindObjectsFinal(h)
        if count.value != 1:
            fail(f"{label}: expected 1 private key object, found {count.value}")
        obj = CK_ULONG(objs[0])
        flags = {}
        for attr, want in ((CKA_SENSITIVE, 1), (CKA_EXTRACTABLE, 0), (CKA_ALWAYS_SENSITIVE, 1),
                           (CKA_NEVER_EXTRACTABLE, 1)):
            b = ctypes.create_string_buffer(1)
            a = Attr(attr, ctypes.cast(b, ctypes.c_void_p), 1)
            rv = lib.C_GetAttributeValue(h, obj, ctypes.byref(a), CK_ULONG(1))
            if rv:
                fail(f"{label}: reading flag {hex(attr)}: {name(rv)}")
            flags[hex(attr)] = b.raw[0]
            if b.raw[0] != want:
                fail(f"{label}: attribute {hex(attr)} is {b.raw[0]}, expected {want}")
        for attr in (CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1):
            b = ctypes.create_string_buffer(8192)
            a = Attr(attr, ctypes.cast(b, ctypes.c_void_p), 8192)
            rv = lib.C_GetAttributeValue(h, obj, ctypes.byref(a), CK_ULONG(1))
            if rv == 0:
                fail(f"{label}: the token returned attribute {hex(attr)} ({a.ulValueLen} bytes)")
            if rv not in (0x11, 0x12):
                fail(f"{label}: reading {hex(attr)} failed with {name(rv)}, expected CKR_ATTRIBUTE_SENSITIVE")
            if rv == 0x11 and a.ulValueLen != CK_UNAVAILABLE:
                fail(f"{label}: sensitive attribute {hex(attr)} reports length {a.ulValueLen}")
        wrap_mech = Mech(CKM_AES_KEY_WRAP_PAD, None, 0)
        out_len = CK_ULONG(0)
        rv = lib.C_WrapKey(h, ctypes.byref(wrap_mech), wrapping, obj, None, ctypes.byref(out_len))
        if rv == 0:
            fail(f"{label}: C_WrapKey would export the private key ({out_len.value} bytes)")
        print(f"{label}: sensitive, not extractable; CKA_VALUE etc. refused; C_WrapKey -> {name(rv)}")
    lib.C_Logout(h)
    lib.C_CloseSession(h)
    lib.C_Finalize(None)


if __name__ == "__main__":
    main()
