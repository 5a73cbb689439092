#!/usr/bin/env bash
# libkyso-p11lock.so behaves like a USB token's PIN counter, judged with OpenSC's pkcs11-tool
# (which kyso did not write), openssl, and p11lock_probe.py for what pkcs11-tool cannot reach:
#   - wrong user PINs count; the try that reaches KYSO_P11LOCK_MAX_TRIES answers CKR_PIN_LOCKED;
#     the token flags say "user PIN count low", "final user PIN try", "user PIN locked";
#   - a locked token refuses the right PIN too, and stays locked in a new process;
#   - the SO unblocks it with C_InitPIN; the old key signs with the new PIN (openssl verifies);
#     the old PIN is refused; a right PIN resets the counter;
#   - C_SetPIN, CKR_USER_ALREADY_LOGGED_IN, concurrent threads and processes, the SO counter,
#     C_InitToken, and the refusal to start without a state folder.
#
# usage: bash p11lock_test.sh <path-to-libkyso-p11lock.so>

set -Eeuo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
note() { echo "[p11lock_test] $*"; }

[[ $# -eq 1 ]] || { echo "usage: bash $0 <path-to-libkyso-p11lock.so>" >&2; exit 2; }
MODULE=$(realpath "$1")
PROBE="$(dirname "$(realpath "$0")")/p11lock_probe.py"
[[ -f $MODULE ]] || fail "module $MODULE does not exist"
for tool in pkcs11-tool openssl python3; do
  command -v "$tool" >/dev/null || fail "required tool '$tool' is not installed"
done
[[ -f /usr/lib/softhsm/libsofthsm2.so ]] || fail "SoftHSM2 is not installed"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kyso-p11lock.XXXXXX")
cleanup() {
  local rc=$?
  if [[ $rc -ne 0 && -n ${KYSO_INTEROP_KEEP:-} ]]; then
    echo "kept $WORK for inspection" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "FAIL: unexpected exit $? at line $LINENO: $BASH_COMMAND" >&2' ERR

unset KYSO_P11LOCK_STATE_DIR KYSO_P11LOCK_TARGET SOFTHSM2_CONF
export LC_ALL=C.UTF-8 KYSO_P11LOCK_MAX_TRIES=3
mkdir -p "$WORK/tokens"
cat >"$WORK/softhsm2.conf" <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF

SO_PIN=so-pin-1234
PIN=user-pin-1234
NEW_PIN=new-pin-5678
OUT="$WORK/out.txt"

# p11 ARGS...: pkcs11-tool through the locking module; output in $OUT.
p11() { pkcs11-tool --module "$MODULE" "$@" >"$OUT" 2>&1; }

# c_login_rv: the CKR_ name of the failed C_Login in $OUT, or "other: ..." if none failed.
c_login_rv() {
  grep -o 'C_Login failed: rv = CKR_[A-Z_]*' "$OUT" | sed 's/.*= //' ||
    echo "other: $(cat "$OUT")"
}

# login_rv LABEL PIN: the CKR_ name C_Login answered (CKR_OK when it logged in).
login_rv() {
  if p11 --token-label "$1" --login --pin "$2" -O; then
    echo CKR_OK
  else
    c_login_rv
  fi
}

# expect_login LABEL PIN WANT WHAT
expect_login() {
  local rv
  rv=$(login_rv "$1" "$2")
  [[ $rv == "$3" ]] || fail "$4: C_Login answered $rv, expected $3"
}

# token_flags LABEL: the "token flags" line pkcs11-tool -L prints for that token.
token_flags() {
  p11 -L || fail "pkcs11-tool -L failed: $(cat "$OUT")"
  awk -v want="$1" '/token label/ { sub(/.*: /, ""); cur = $0 }
                    /token flags/ && cur == want { sub(/.*: /, ""); print }' "$OUT"
}

# expect_flags LABEL WHAT [+FLAG | -FLAG]...: each +FLAG is listed, each -FLAG is not.
expect_flags() {
  local label=$1 what=$2 flags f
  shift 2
  flags=$(token_flags "$label")
  [[ -n $flags ]] || fail "$what: no token labelled $label in pkcs11-tool -L"
  for f in "$@"; do
    case $f in
      +*) [[ ", $flags," == *", ${f#+},"* ]] || fail "$what: '${f#+}' missing from flags: $flags" ;;
      -*) [[ ", $flags," != *", ${f#-},"* ]] || fail "$what: '${f#-}' in flags: $flags" ;;
    esac
  done
}

# uninitialized_slot: the ID of the slot SoftHSM2 offers for a new token. Not a fixed number:
# SoftHSM2 lists initialised tokens under IDs derived from their serials, and the free slot after.
uninitialized_slot() {
  p11 -L || fail "pkcs11-tool -L failed: $(cat "$OUT")"
  awk '/^Slot / { id = $3; gsub(/[()]/, "", id) }
       /token state: *uninitialized/ { print id; exit }' "$OUT"
}

LOW="user PIN count low"
FINAL="final user PIN try"
LOCKED="user PIN locked"

# --- Without a state folder the module refuses to start, before touching the target. --------
if pkcs11-tool --module "$MODULE" -L >"$OUT" 2>&1; then
  fail "module started with neither KYSO_P11LOCK_STATE_DIR nor SOFTHSM2_CONF set"
fi
grep -q "kyso-p11lock: neither KYSO_P11LOCK_STATE_DIR nor SOFTHSM2_CONF" "$OUT" ||
  fail "no explanation when refusing to start: $(cat "$OUT")"
note "refuses C_Initialize without a state folder"
export SOFTHSM2_CONF="$WORK/softhsm2.conf"

# --- A token with a user PIN and an RSA key. -------------------------------------------------
p11 --slot "$(uninitialized_slot)" --init-token --label t --so-pin "$SO_PIN" ||
  fail "--init-token: $(cat "$OUT")"
p11 --token-label t --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$PIN" ||
  fail "--init-pin: $(cat "$OUT")"
p11 --token-label t --login --pin "$PIN" --keypairgen --key-type rsa:2048 --id 01 --label k ||
  fail "--keypairgen: $(cat "$OUT")"
expect_flags t "fresh token" +"PIN initialized" -"$LOW" -"$FINAL" -"$LOCKED"

# --- A right PIN resets the counter: 2 wrong, 1 right, 2 wrong is not locked at 3. -----------
expect_login t bad-1 CKR_PIN_INCORRECT "wrong PIN 1"
expect_login t bad-2 CKR_PIN_INCORRECT "wrong PIN 2"
expect_flags t "after 2 wrong PINs" +"$LOW" +"$FINAL" -"$LOCKED"
expect_login t "$PIN" CKR_OK "right PIN after 2 wrong"
expect_flags t "after a right PIN" -"$LOW" -"$FINAL" -"$LOCKED"
expect_login t bad-3 CKR_PIN_INCORRECT "wrong PIN 1 after reset"
expect_login t bad-4 CKR_PIN_INCORRECT "wrong PIN 2 after reset"
expect_login t "$PIN" CKR_OK "right PIN after 2+2 wrong (the reset must have counted)"
note "a right PIN resets the counter (2 wrong, 1 right, 2 wrong: not locked)"

# --- Three wrong PINs lock; the third already answers CKR_PIN_LOCKED. ------------------------
expect_login t bad-5 CKR_PIN_INCORRECT "wrong PIN 1"
expect_flags t "after 1 wrong PIN" +"$LOW" -"$FINAL" -"$LOCKED"
expect_login t bad-6 CKR_PIN_INCORRECT "wrong PIN 2"
expect_flags t "after 2 wrong PINs" +"$LOW" +"$FINAL" -"$LOCKED"
expect_login t bad-7 CKR_PIN_LOCKED "wrong PIN 3 (exhausts the counter)"
expect_flags t "after 3 wrong PINs" +"$LOCKED" -"$LOW" -"$FINAL"
expect_login t "$PIN" CKR_PIN_LOCKED "right PIN on a locked token"
expect_login t bad-8 CKR_PIN_LOCKED "wrong PIN on a locked token"
# Every pkcs11-tool run is a new process; once more, after a pause, for the record.
sleep 1
expect_login t "$PIN" CKR_PIN_LOCKED "right PIN in a new process"
expect_flags t "in a new process" +"$LOCKED"
state_files=("$WORK"/p11lock-*.state)
[[ ${#state_files[@]} -eq 1 ]] || fail "expected one state file, found: ${state_files[*]}"
[[ $(cat "${state_files[0]}") == $'user 3\nso 0' ]] ||
  fail "state file holds '$(cat "${state_files[0]}")', expected user 3, so 0"
note "locked after 3 wrong PINs; the right PIN is refused; persists across processes"

# The lock is the module's alone: SoftHSM2 itself would still take the PIN.
pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label t --login --pin "$PIN" -O \
  >"$OUT" 2>&1 || fail "SoftHSM2 itself refuses the PIN: $(cat "$OUT")"

# --- The SO unblocks with C_InitPIN; the old key signs with the new PIN. ---------------------
p11 --token-label t --login --login-type so --so-pin "$SO_PIN" --init-pin --new-pin "$NEW_PIN" ||
  fail "SO --init-pin on a locked token: $(cat "$OUT")"
expect_flags t "after SO unblock" -"$LOW" -"$FINAL" -"$LOCKED" +"PIN initialized"
printf 'kyso p11lock test document\n' >"$WORK/data"
p11 --token-label t --login --pin "$NEW_PIN" --sign -m SHA256-RSA-PKCS --id 01 \
  -i "$WORK/data" -o "$WORK/sig" || fail "sign with the new PIN: $(cat "$OUT")"
p11 --token-label t --read-object --type pubkey --id 01 -o "$WORK/pub.der" ||
  fail "read public key: $(cat "$OUT")"
openssl dgst -sha256 -verify "$WORK/pub.der" -keyform DER -signature "$WORK/sig" "$WORK/data" \
  >"$OUT" 2>&1 || fail "openssl rejects the signature made after unblocking: $(cat "$OUT")"
expect_login t "$PIN" CKR_PIN_INCORRECT "old PIN after SO unblock"
expect_login t "$NEW_PIN" CKR_OK "new PIN after SO unblock"
note "SO unblock with C_InitPIN; the old key signs with the new PIN (openssl: Verified OK)"

# --- What pkcs11-tool cannot reach: C_SetPIN, CKR_USER_ALREADY_LOGGED_IN. --------------------
python3 "$PROBE" "$MODULE" setpin t "$NEW_PIN" >"$OUT" 2>&1 || fail "probe setpin: $(cat "$OUT")"
note "$(cat "$OUT")"
python3 "$PROBE" "$MODULE" already-logged-in t "$NEW_PIN" >"$OUT" 2>&1 ||
  fail "probe already-logged-in: $(cat "$OUT")"
note "$(cat "$OUT")"

# --- A second token, u: counted by its own serial, also under concurrency. (Not "t2": pkcs11-tool
# --token-label matches a prefix, so "t" would find "t2" if SoftHSM2 listed it first.)
p11 --slot "$(uninitialized_slot)" --init-token --label u --so-pin "$SO_PIN" ||
  fail "--init-token u: $(cat "$OUT")"
p11 --token-label u --login --login-type so --so-pin "$SO_PIN" --init-pin --pin "$PIN" ||
  fail "--init-pin u: $(cat "$OUT")"
python3 "$PROBE" "$MODULE" threads u "$PIN" >"$OUT" 2>&1 || fail "probe threads: $(cat "$OUT")"
note "$(cat "$OUT")"
expect_flags u "u after concurrent wrong PINs" +"$LOCKED"
expect_flags t "t while u is locked" -"$LOW" -"$LOCKED"
p11 --token-label u --login --login-type so --so-pin "$SO_PIN" --init-pin --new-pin "$PIN" ||
  fail "SO unblock u: $(cat "$OUT")"
# wrong_login_until_answered I: one process's wrong PIN for u. SoftHSM2 2.6 (file backend) hides
# a token from a process that starts while another one logs in ("No slot with token named",
# CKR_SLOT_ID_INVALID), with or without this module; such a run never reached C_Login, so retry.
wrong_login_until_answered() {
  local i=$1
  for _ in $(seq 1 100); do
    pkcs11-tool --module "$MODULE" --token-label u --login --pin "bad-$i" -O >"$WORK/par$i" 2>&1 &&
      return 0
    grep -q 'C_Login failed: rv = CKR_PIN_' "$WORK/par$i" && return 0
    sleep "0.0$((RANDOM % 10))"
  done
}
pids=()
for i in 1 2 3 4 5 6; do
  wrong_login_until_answered "$i" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
n_incorrect=$(cat "$WORK"/par? | grep -c 'rv = CKR_PIN_INCORRECT' || true)
n_locked=$(cat "$WORK"/par? | grep -c 'rv = CKR_PIN_LOCKED' || true)
[[ $n_incorrect -eq 2 && $n_locked -eq 4 ]] ||
  fail "6 processes at once: $n_incorrect CKR_PIN_INCORRECT, $n_locked CKR_PIN_LOCKED; want 2, 4"
note "6 processes at once: 2 CKR_PIN_INCORRECT, 4 CKR_PIN_LOCKED"

# --- C_InitToken: a wrong SO PIN counts; success clears both counters. -----------------------
if p11 --init-token --token-label u --label u --so-pin wrong-so-pin; then
  fail "--init-token with a wrong SO PIN succeeded"
fi
grep -q CKR_PIN_INCORRECT "$OUT" || fail "--init-token with a wrong SO PIN: $(cat "$OUT")"
expect_flags u "after a wrong SO PIN" +"SO PIN count low" +"$LOCKED"
p11 --init-token --token-label u --label u --so-pin "$SO_PIN" || fail "re-init u: $(cat "$OUT")"
expect_flags u "after re-init" -"SO PIN count low" -"$LOCKED" -"$LOW"
note "C_InitToken counts a wrong SO PIN and clears both counters on success"

# --- The SO counter: 3 wrong SO PINs lock the SO for good; the user still logs in. -----------
# so_login_rv PIN: what C_Login(CKU_SO) answers on t (SO login needs a read-write session).
so_login_rv() {
  if p11 --token-label t --session-rw --login --login-type so --so-pin "$1" -O; then
    echo CKR_OK
  else
    c_login_rv
  fi
}
[[ $(so_login_rv "$SO_PIN") == CKR_OK ]] || fail "right SO PIN refused: $(cat "$OUT")"
for want in CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_LOCKED; do
  rv=$(so_login_rv bad-so-pin)
  [[ $rv == "$want" ]] || fail "wrong SO PIN: C_Login answered $rv, expected $want"
done
expect_flags t "after 3 wrong SO PINs" +"SO PIN locked" -"$LOCKED"
rv=$(so_login_rv "$SO_PIN")
[[ $rv == CKR_PIN_LOCKED ]] || fail "right SO PIN on an SO-locked token: $rv"
expect_login t "$NEW_PIN" CKR_OK "user PIN while the SO is locked"
note "SO PIN locks after 3 wrong tries; the user PIN still works"

echo "PASS: p11lock_test (lock at 3, persistence, SO unblock, signature verified by openssl)"
