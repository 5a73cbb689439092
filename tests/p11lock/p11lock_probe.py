#!/usr/bin/env python3
"""p11lock_probe: the parts of libkyso-p11lock.so that pkcs11-tool cannot reach, driven straight
through the module's CK_FUNCTION_LIST with ctypes (the module exports nothing else).

usage: SOFTHSM2_CONF=... python3 p11lock_probe.py MODULE CHECK TOKEN_LABEL USER_PIN

CHECK is one of
  already-logged-in  log in, then C_Login(CKU_USER, wrong PIN) answers CKR_USER_ALREADY_LOGGED_IN
                     and is not counted (SoftHSM2 does not look at the PIN then; tokens neither)
  setpin             C_SetPIN in a public session: a wrong old PIN counts, a right one resets
  threads            8 threads, one session each, C_Login with a wrong PIN at the same moment:
                     exactly MAX_TRIES-1 see CKR_PIN_INCORRECT, the rest CKR_PIN_LOCKED, and the
                     token ends locked. Leaves the token locked.
Prints one line; exits 1 with a FAIL line on the first failure.
"""
import ctypes
import os
import sys
import threading

CK_ULONG = ctypes.c_ulong
CKR = {0x0: "CKR_OK", 0xA0: "CKR_PIN_INCORRECT", 0xA4: "CKR_PIN_LOCKED",
       0x100: "CKR_USER_ALREADY_LOGGED_IN", 0x101: "CKR_USER_NOT_LOGGED_IN"}
CKR_OK, CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_USER_ALREADY_LOGGED_IN = 0x0, 0xA0, 0xA4, 0x100
CKU_USER = 1
CKF_SERIAL_SESSION, CKF_RW_SESSION, CKF_OS_LOCKING_OK = 0x4, 0x2, 0x2
CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED = 1 << 16, 1 << 17, 1 << 18
USER_PIN_FLAGS = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED

# Indexes into CK_FUNCTION_LIST (PKCS#11 v2.40 order), after the CK_VERSION header.
FN = {"C_Initialize": 0, "C_Finalize": 1, "C_GetSlotList": 4, "C_GetTokenInfo": 6,
      "C_InitPIN": 10, "C_SetPIN": 11, "C_OpenSession": 12, "C_CloseSession": 13,
      "C_Login": 18, "C_Logout": 19}


class InitArgs(ctypes.Structure):
    _fields_ = [("create", ctypes.c_void_p), ("destroy", ctypes.c_void_p),
                ("lock", ctypes.c_void_p), ("unlock", ctypes.c_void_p),
                ("flags", CK_ULONG), ("reserved", ctypes.c_void_p)]


class TokenInfo(ctypes.Structure):
    _fields_ = [("label", ctypes.c_char * 32), ("manufacturer", ctypes.c_char * 32),
                ("model", ctypes.c_char * 16), ("serial", ctypes.c_char * 16),
                ("flags", CK_ULONG), ("rest", ctypes.c_byte * 256)]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def name(rv):
    return CKR.get(rv, hex(rv))


class Module:
    def __init__(self, path):
        lib = ctypes.CDLL(path)
        lib.C_GetFunctionList.restype = CK_ULONG
        plist = ctypes.c_void_p()
        rv = lib.C_GetFunctionList(ctypes.byref(plist))
        if rv:
            fail("C_GetFunctionList: " + name(rv))
        ptrs = ctypes.cast(plist.value + ctypes.sizeof(ctypes.c_void_p),
                           ctypes.POINTER(ctypes.c_void_p))
        proto = ctypes.CFUNCTYPE(CK_ULONG)  # arguments are all passed as CK_ULONG or pointers
        for fn, i in FN.items():
            f = ctypes.cast(ptrs[i], proto)
            f.argtypes = None  # ctypes passes Python ints and byrefs as given
            setattr(self, fn, f)
        self._lib = lib  # keeps the module loaded

    def check(self, fn, want, *args):
        rv = getattr(self, fn)(*args)
        if rv != want:
            fail(f"{fn}: {name(rv)}, expected {name(want)}")


def find_slot(m, label):
    n = CK_ULONG(0)
    m.check("C_GetSlotList", CKR_OK, CK_ULONG(1), None, ctypes.byref(n))
    slots = (CK_ULONG * n.value)()
    m.check("C_GetSlotList", CKR_OK, CK_ULONG(1), slots, ctypes.byref(n))
    for s in slots[: n.value]:
        info = TokenInfo()
        if m.C_GetTokenInfo(CK_ULONG(s), ctypes.byref(info)) == CKR_OK:
            if info.label.decode("utf-8", "replace").rstrip() == label:
                return CK_ULONG(s)
    fail("no token labelled " + label)


def pin_flags(m, slot):
    info = TokenInfo()
    m.check("C_GetTokenInfo", CKR_OK, slot, ctypes.byref(info))
    return info.flags & USER_PIN_FLAGS


def open_session(m, slot):
    h = CK_ULONG(0)
    m.check("C_OpenSession", CKR_OK, slot, CK_ULONG(CKF_SERIAL_SESSION | CKF_RW_SESSION), None,
            None, ctypes.byref(h))
    return h


def login(m, h, pin):
    return m.C_Login(h, CK_ULONG(CKU_USER), pin, CK_ULONG(len(pin)))


def check_already_logged_in(m, slot, pin):
    h = open_session(m, slot)
    if login(m, h, pin) != CKR_OK:
        fail("C_Login with the right PIN failed")
    rv = login(m, h, b"wrong-pin")
    if rv != CKR_USER_ALREADY_LOGGED_IN:
        fail(f"second C_Login with a wrong PIN: {name(rv)}, expected CKR_USER_ALREADY_LOGGED_IN")
    if pin_flags(m, slot) != 0:
        fail(f"CKR_USER_ALREADY_LOGGED_IN was counted: flags {pin_flags(m, slot):#x}")
    m.check("C_Logout", CKR_OK, h)
    m.check("C_CloseSession", CKR_OK, h)
    return "CKR_USER_ALREADY_LOGGED_IN passes through, uncounted"


def check_setpin(m, slot, pin):
    h = open_session(m, slot)
    bad, tmp = b"wrong-pin", b"temporary-pin"
    m.check("C_SetPIN", CKR_PIN_INCORRECT, h, bad, CK_ULONG(len(bad)), tmp, CK_ULONG(len(tmp)))
    if pin_flags(m, slot) != CKF_USER_PIN_COUNT_LOW:
        fail(f"a wrong old PIN to C_SetPIN was not counted: flags {pin_flags(m, slot):#x}")
    m.check("C_SetPIN", CKR_OK, h, pin, CK_ULONG(len(pin)), tmp, CK_ULONG(len(tmp)))
    if pin_flags(m, slot) != 0:
        fail(f"C_SetPIN with the right old PIN did not reset: flags {pin_flags(m, slot):#x}")
    m.check("C_SetPIN", CKR_OK, h, tmp, CK_ULONG(len(tmp)), pin, CK_ULONG(len(pin)))
    m.check("C_CloseSession", CKR_OK, h)
    return "C_SetPIN: wrong old PIN counted, right one resets"


def check_threads(m, slot, max_tries):
    sessions = [open_session(m, slot) for _ in range(8)]
    results = [None] * len(sessions)
    start = threading.Barrier(len(sessions))

    def worker(i):
        start.wait()
        results[i] = login(m, sessions[i], b"wrong-pin")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    incorrect = results.count(CKR_PIN_INCORRECT)
    locked = results.count(CKR_PIN_LOCKED)
    if incorrect != max_tries - 1 or locked != len(sessions) - incorrect:
        fail(f"8 concurrent wrong logins gave {[name(r) for r in results]}; expected "
             f"{max_tries - 1} CKR_PIN_INCORRECT and the rest CKR_PIN_LOCKED")
    if pin_flags(m, slot) != CKF_USER_PIN_LOCKED:
        fail(f"token not locked after concurrent wrong logins: flags {pin_flags(m, slot):#x}")
    for h in sessions:
        m.check("C_CloseSession", CKR_OK, h)
    return f"8 threads: {incorrect} CKR_PIN_INCORRECT, {locked} CKR_PIN_LOCKED"


def main():
    module, check, label, pin = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
    max_tries = int(os.environ.get("KYSO_P11LOCK_MAX_TRIES", "3"))
    m = Module(module)
    args = InitArgs(None, None, None, None, CKF_OS_LOCKING_OK, None)
    m.check("C_Initialize", CKR_OK, ctypes.byref(args))
    slot = find_slot(m, label)
    if check == "already-logged-in":
        line = check_already_logged_in(m, slot, pin)
    elif check == "setpin":
        line = check_setpin(m, slot, pin)
    elif check == "threads":
        line = check_threads(m, slot, max_tries)
    else:
        fail("unknown check " + check)
    m.check("C_Finalize", CKR_OK, None)
    print(line)


if __name__ == "__main__":
    main()
