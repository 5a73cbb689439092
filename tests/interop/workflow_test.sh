# shellcheck shell=bash
# The registration workflow end to end through the CLI, judged by openssl, sqlite3 and python3:
#   1. lifecycle: new-individual -> renew (R9.1, R4.2, R10.1) -> change (R11.1, superseded) ->
#      revoke (R12.2) -> the handover obligation filed with its due date (R12.3, R14.1);
#   2. R15.2 for every command (a focal person of another agency), R3.6 for a subscriber;
#   3. a Mẫu 01 with bad rows stores nothing and names every bad row (R9.6);
#   4. audit tampering with sqlite3 is detected, and a forged chain (hashes recomputed) is
#      caught by the signed checkpoint;
#   5. every request state is reachable and visible.
# Every refusal must exit 1 with a `kyso:` line and change neither `requests` nor
# `certificates`. Checks after a kyso bug carry on (check_later) so one bug hides nothing.
#
# usage: bash workflow_test.sh <path-to-kyso> <repo-root>

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
interop_setup "$@"

DOMAIN="$REPO/../shared/domain"
[[ -f $DOMAIN/demo-agencies.csv ]] || fail "no demo agencies at $DOMAIN/demo-agencies.csv"
H="$WORK/home"
D="$WORK/data"        # CSVs, CSRs, certificates
mkdir -p "$D" "$WORK/elsewhere"
# kyso resolves a row's csr path against the CSV's folder; run it from an unrelated folder so
# a match in the current directory cannot hide that.
cd "$WORK/elsewhere"

# --- helpers ------------------------------------------------------------------------------

OUT="$WORK/last.out"
ERR="$WORK/last.err"
# file_req ARGS...: files a request (--home is added); prints its id (the last stdout line).
file_req() {
  ok request file --home "$H" "$@"
  local id
  id=$(tail -n 1 "$OUT")
  [[ $id =~ ^[0-9]+$ ]] || fail "kyso request file $* printed '$(cat "$OUT")', not an id"
  echo "$id"
}
nreq() { sql "$H" "select count(*) from requests"; }
ncert() { cert_rows "$H"; }
# show ID: request show as the console, into $WORK/show.json.
show() {
  ok request show --home "$H" --id "$1" --json
  cp "$OUT" "$WORK/show.json"
}
field() { json_get "$WORK/show.json" "$1"; }
expect_field() { # expect_field ID KEY VALUE
  show "$1"
  local got
  got=$(field "$2")
  [[ $got == "$3" ]] || check_later "request $1: $2 is '$got', expected '$3'"
}
state_of() { show "$1" && field state; }

# refused LABEL RULE ARGS...: kyso ARGS must be refused: exit 1, a `kyso: ` line naming RULE
# (when RULE is not empty), no new request row, no new certificate. A refusal that does not
# happen is recorded with check_later and its request, if one was filed, stays.
REFUSALS=0
refused() {
  local label=$1 rule=$2
  shift 2
  local r0 c0 r1 c1
  r0=$(nreq)
  c0=$(ncert)
  run_kyso "$@"
  r1=$(nreq)
  c1=$(ncert)
  REFUSALS=$((REFUSALS + 1))
  if ((RC != 1)); then
    check_later "$label: expected exit 1, got $RC (stdout: $(tr '\n' ' ' <"$OUT"); stderr: $(tr '\n' ' ' <"$ERR"))"
  elif ! grep -q '^kyso: ' "$ERR"; then
    check_later "$label: no 'kyso:' line on stderr: $(cat "$ERR")"
  elif [[ -n $rule ]] && ! grep -q "^kyso: .*$rule" "$ERR"; then
    check_later "$label: the refusal does not name $rule: $(tr '\n' ' ' <"$ERR")"
  fi
  [[ $r1 == "$r0" ]] || check_later "$label: requests went from $r0 to $r1 rows"
  [[ $c1 == "$c0" ]] || check_later "$label: certificates went from $c0 to $c1 rows"
}

# Mẫu 01 rows.
M01_HEADER='ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki'
NOI_CAP='Cục Cảnh sát quản lý hành chính về trật tự xã hội'
# m01_row NAME CCCD EMAIL CO_QUAN PHONE [CSR]
m01_row() {
  printf '%s,12/04/1988,%s,20/07/2021,%s,%s,%s,Đồng Nai,Chuyên viên,%s,,%s\n' \
    "$1" "$2" "$NOI_CAP" "$3" "$4" "$5" "${6:+,$6}"
}

# openssl views of a certificate.
pem_of() { ok cert show --home "$H" --serial "$1" --pem && cp "$OUT" "$2"; }
enddate() { openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//'; }
pubkey() { openssl x509 -in "$1" -noout -pubkey; }
subject_utf8() { openssl x509 -in "$1" -noout -subject -nameopt utf8 | sed 's/^subject=//'; }
verify_chain() { # verify_chain CERT: against `kyso ca chain` (issuing untrusted, root the anchor)
  local v
  v=$(openssl verify -CAfile "$D/root.pem" -untrusted "$D/issuing.pem" "$1" 2>&1) ||
    check_later "openssl verify $(basename "$1"): $v"
  [[ $v == "$1: OK" ]] || check_later "openssl verify $(basename "$1") printed '$v'"
}

# Working days (R14.1) computed independently of kyso: weekends and the Vietnamese 2026
# holidays skipped, Saturday 2026-01-10 and 2026-08-22 worked. Prints "EXACT date" when the
# whole window lies in 2026 (the only announced year), else "RANGE lo hi" (calendar bounds).
due_expectation() { # due_expectation WORKING_DAYS
  python3 - "$1" <<'EOF'
import datetime as dt, sys
n = int(sys.argv[1])
HOL = {dt.date(2026, m, d) for m, d in [(1, 1), (1, 2), (2, 16), (2, 17), (2, 18), (2, 19),
       (2, 20), (4, 27), (4, 30), (5, 1), (8, 31), (9, 1), (9, 2)]}
MAKEUP = {dt.date(2026, 1, 10), dt.date(2026, 8, 22)}
def working(d):
    return d in MAKEUP or (d.weekday() < 5 and d not in HOL)
# kyso's "today" is the date in Vietnam (UTC+7, no daylight saving time).
today = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=7)).date()
d, count = today, 0
while count < n:
    d += dt.timedelta(days=1)
    if working(d):
        count += 1
if today.year == 2026 and d.year == 2026:
    print("EXACT", d.isoformat())
else:  # an unannounced year: n working days are n..n+2+holidays calendar days after today
    print("RANGE", (today + dt.timedelta(days=n)).isoformat(),
          (today + dt.timedelta(days=n + 9)).isoformat())
EOF
}
# check_due LABEL DUE EXPECT_BEFORE EXPECT_AFTER: the date is the expectation computed just
# before or just after the action (the test may run across midnight in Vietnam).
check_due() {
  local label=$1 due=$2 e
  for e in "$3" "$4"; do
    read -r mode a b <<<"$e"
    if [[ $mode == EXACT && $due == "$a" ]]; then return 0; fi
    if [[ $mode == RANGE && ! $due < $a && ! $due > $b ]]; then return 0; fi
  done
  check_later "$label: due_date $due, expected $3 (or $4)"
}

# --- deployment ---------------------------------------------------------------------------
init_home "$H"
ok agency import --home "$H" "$DOMAIN/demo-agencies.csv"
printf 'mat-khau-thu-nghiem-2026\n' >"$WORK/pw"
add_user() { ok user add --home "$H" --name "$1" --role "$2" ${3:+--agency "$3"} --password-file "$WORK/pw"; }
add_user dm_skhcn focal SKHCN
add_user dm_snv focal SNV
add_user cuc provider
add_user so authority
add_user kiemtoan auditor
add_user tb subscriber SKHCN.CDS
ok ca chain --home "$H"
cp "$OUT" "$D/chain.pem"
awk '/BEGIN CERT/{n++} {print > (n == 1 ? "'"$D"'/issuing.pem" : "'"$D"'/root.pem")}' "$D/chain.pem"
[[ $(openssl x509 -in "$D/root.pem" -noout -subject) == "subject=$(openssl x509 -in "$D/root.pem" -noout -issuer | sed 's/^issuer=//')" ]] ||
  fail "kyso ca chain: the second certificate is not the self-signed root"
# The names the subject must carry, from the shared domain data.
{ read -r O_NAME; read -r OU_NAME; } < <(python3 - "$DOMAIN/demo-agencies.csv" <<'EOF'
import csv, sys
names = {r["code"]: r["name"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
print(names["SKHCN"]); print(names["SKHCN.CDS"])
EOF
)
note "deployment ready (O='$O_NAME', OU='$OU_NAME')"

# --- 1. lifecycle -------------------------------------------------------------------------
NHUNG='Nguyễn Thị Hồng Nhung'
make_csr "$D/nhung.csr" ec
{ echo "$M01_HEADER,csr"; m01_row "$NHUNG" 075188001234 nthnhung@dongnai.gov.vn SKHCN.CDS 0912345678 nhung.csr; } >"$D/nhung.csv"
E_BEFORE=$(due_expectation 3)
R_NEW=$(file_req --as dm_skhcn --kind new-individual --rows "$D/nhung.csv")
E_AFTER=$(due_expectation 3)
expect_field "$R_NEW" state submitted
expect_field "$R_NEW" kind new-individual
expect_field "$R_NEW" route provider
expect_field "$R_NEW" exchange_code G11.07.05
expect_field "$R_NEW" agency SKHCN
expect_field "$R_NEW" certificate_serial null
check_due "new-individual $R_NEW (3 working days, R14.1)" "$(field due_date)" "$E_BEFORE" "$E_AFTER"
ok request decide --home "$H" --as cuc --id "$R_NEW" --approve
grep -qx "request $R_NEW fulfilled" "$OUT" || check_later "decide printed '$(cat "$OUT")'"
expect_field "$R_NEW" state fulfilled
expect_field "$R_NEW" decided_by cuc
S1=$(field certificate_serial)
[[ $S1 =~ ^[0-9a-f]+$ ]] || fail "fulfilled request $R_NEW has certificate_serial '$S1'"
pem_of "$S1" "$D/c1.pem"
verify_chain "$D/c1.pem"
SUBJ=$(subject_utf8 "$D/c1.pem")
[[ $SUBJ == *"CN=$NHUNG"* ]] || check_later "certificate $S1: subject '$SUBJ' lacks CN=$NHUNG"
[[ $SUBJ == *"OU=$OU_NAME"* ]] || check_later "certificate $S1: subject '$SUBJ' lacks OU=$OU_NAME"
[[ $SUBJ == *"O=$O_NAME"* ]] || check_later "certificate $S1: subject '$SUBJ' lacks O=$O_NAME"
[[ $(pubkey "$D/c1.pem") == "$(openssl req -in "$D/nhung.csr" -noout -pubkey)" ]] ||
  check_later "certificate $S1 does not carry the CSR's public key"
note "new-individual $R_NEW fulfilled: $S1, notAfter $(enddate "$D/c1.pem")"

# Renewal: decided by the authority only (R9.1); +3 years on the old notAfter, same key (R4.2).
R_RENEW=$(file_req --as dm_skhcn --kind renew --serial "$S1")
expect_field "$R_RENEW" route authority
expect_field "$R_RENEW" exchange_code H19.5
expect_field "$R_RENEW" target_serial "$S1"
refused "renew decided by the provider" R9.1 request decide --home "$H" --as cuc --id "$R_RENEW" --approve
expect_field "$R_RENEW" state submitted
expect_field "$R_RENEW" decided_by null
ok request decide --home "$H" --as so --id "$R_RENEW" --approve
expect_field "$R_RENEW" state fulfilled
S2=$(field certificate_serial)
[[ $S2 =~ ^[0-9a-f]+$ && $S2 != "$S1" ]] || fail "renewal $R_RENEW: certificate_serial '$S2'"
pem_of "$S2" "$D/c2.pem"
verify_chain "$D/c2.pem"
WANT=$(python3 - "$(enddate "$D/c1.pem")" <<'EOF'
import datetime as dt, sys
t = dt.datetime.strptime(sys.argv[1], "%b %d %H:%M:%S %Y GMT")
try:
    print(t.replace(year=t.year + 3).strftime("%Y-%m-%d %H:%M:%S"))
except ValueError:  # 29 February
    print(t.replace(year=t.year + 3, day=28).strftime("%Y-%m-%d %H:%M:%S"), "or 1 March")
EOF
)
GOT=$(python3 -c 'import datetime as dt, sys
print(dt.datetime.strptime(sys.argv[1], "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%d %H:%M:%S"))' "$(enddate "$D/c2.pem")")
[[ $GOT == "${WANT%% or*}" ]] || check_later "renewed $S2: notAfter $GOT, expected $WANT (old $(enddate "$D/c1.pem") + 3 years)"
[[ $(pubkey "$D/c2.pem") == "$(pubkey "$D/c1.pem")" ]] || check_later "renewed $S2 has another public key than $S1"
[[ $(subject_utf8 "$D/c2.pem") == "$SUBJ" ]] || check_later "renewed $S2: subject changed to '$(subject_utf8 "$D/c2.pem")'"
refused "second renewal of the renewed certificate" R10.1 request file --home "$H" --as dm_skhcn --kind renew --serial "$S2"
# R10.1 (QC Art. 10.1 "chỉ được đề nghị gia hạn 01 lần"): the original, renewed once, is not
# renewed again either.
refused "second renewal of the original certificate" R10.1 request file --home "$H" --as dm_skhcn --kind renew --serial "$S1"
if ((RC == 0)); then
  # kyso took it: keep the rest of the test on its expected course.
  ok request cancel --home "$H" --as dm_skhcn --id "$(tail -n 1 "$OUT")"
fi
note "renewal $R_RENEW fulfilled: $S2, notAfter $(enddate "$D/c2.pem")"

# Change of e-mail (R11.1): same notAfter; the predecessor is revoked as superseded.
R_CHANGE=$(file_req --as dm_skhcn --kind change --serial "$S2" --field email=nhung.nth@dongnai.gov.vn)
expect_field "$R_CHANGE" route authority
ok request decide --home "$H" --as so --id "$R_CHANGE" --approve
expect_field "$R_CHANGE" state fulfilled
S3=$(field certificate_serial)
[[ $S3 =~ ^[0-9a-f]+$ && $S3 != "$S2" ]] || fail "change $R_CHANGE: certificate_serial '$S3'"
pem_of "$S3" "$D/c3.pem"
verify_chain "$D/c3.pem"
[[ $(enddate "$D/c3.pem") == "$(enddate "$D/c2.pem")" ]] ||
  check_later "changed $S3: notAfter $(enddate "$D/c3.pem"), predecessor $(enddate "$D/c2.pem")"
[[ $(subject_utf8 "$D/c3.pem") == *"emailAddress=nhung.nth@dongnai.gov.vn"* ]] ||
  check_later "changed $S3: subject '$(subject_utf8 "$D/c3.pem")' lacks the new e-mail"
openssl x509 -in "$D/c3.pem" -noout -ext subjectAltName | grep -q 'email:nhung.nth@dongnai.gov.vn' ||
  check_later "changed $S3: the SAN lacks the new e-mail"
ok cert show --home "$H" --serial "$S2" --json
[[ $(json_get "$OUT" status) == revoked && $(json_get "$OUT" revocation_reason) == superseded ]] ||
  check_later "predecessor $S2 after the change: $(tr -d '\n' <"$OUT")"
note "change $R_CHANGE fulfilled: $S3, $S2 superseded"

# Revocation (R12.2: the provider only), then the handover obligation (R12.3: 5 working days).
R_REVOKE=$(file_req --as dm_skhcn --kind revoke --serial "$S3" --reason key-exposed)
expect_field "$R_REVOKE" route provider
refused "revoke decided by the authority" R12.2 request decide --home "$H" --as so --id "$R_REVOKE" --approve
E_BEFORE=$(due_expectation 5)
ok request decide --home "$H" --as cuc --id "$R_REVOKE" --approve
E_AFTER=$(due_expectation 5)
expect_field "$R_REVOKE" state fulfilled
ok cert show --home "$H" --serial "$S3" --json
[[ $(json_get "$OUT" status) == revoked ]] || check_later "revoked $S3: $(tr -d '\n' <"$OUT")"
ok request list --home "$H" --state submitted --json
cp "$OUT" "$WORK/submitted.json"
HANDOVER=$(python3 - "$WORK/submitted.json" "$S3" "$R_REVOKE" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
assert all(r["state"] == "submitted" for r in rows), "list --state submitted returned other states"
h = [r for r in rows if r["kind"] == "handover" and r["target_serial"] == sys.argv[2]]
if len(h) != 1:
    print("ERROR", len(h), "handover requests for", sys.argv[2]); sys.exit()
h = h[0]
if h["parent_request"] != int(sys.argv[3]):
    print("ERROR parent_request", h["parent_request"], "not", sys.argv[3]); sys.exit()
print(h["id"], h["due_date"], h["agency"])
EOF
)
if [[ $HANDOVER == ERROR* ]]; then
  check_later "after revoke $R_REVOKE: ${HANDOVER#ERROR }: $(tr -d '\n ' <"$WORK/submitted.json")"
else
  read -r R_HANDOVER DUE H_AGENCY <<<"$HANDOVER"
  [[ $H_AGENCY == SKHCN ]] || check_later "handover $R_HANDOVER: agency $H_AGENCY"
  check_due "handover $R_HANDOVER (5 working days, R12.3)" "$DUE" "$E_BEFORE" "$E_AFTER"
  note "revoke $R_REVOKE fulfilled; handover $R_HANDOVER due $DUE (expected ${E_BEFORE#* })"
fi

# --- 2. R15.2: another agency's focal person; R3.6: a subscriber ---------------------------
# A fresh live SKHCN certificate (renewable, changeable, revocable), filed with --field csr=.
make_csr "$D/minh.csr" ec
{ echo "$M01_HEADER"; m01_row 'Trần Văn Minh' 075079004321 tvminh@dongnai.gov.vn SKHCN.CDS 0983456789; } >"$D/minh.csv"
R_MINH=$(file_req --as dm_skhcn --kind new-individual --rows "$D/minh.csv" --field csr="$D/minh.csr")
ok request decide --home "$H" --as cuc --id "$R_MINH" --approve
expect_field "$R_MINH" state fulfilled
S5=$(field certificate_serial)
# A submitted SKHCN request without a CSR (later approved: it then waits for its device).
{ echo "$M01_HEADER"; m01_row 'Lê Văn An' 075085001111 lvan@dongnai.gov.vn SKHCN.CDS 0912345671; } >"$D/an.csv"
R_PEND=$(file_req --as dm_skhcn --kind new-individual --rows "$D/an.csv")
# SNV's own request, so that its list is not empty by accident.
{ echo "$M01_HEADER"; m01_row 'Đỗ Thị Thu' 075190005555 dtthu@dongnai.gov.vn SNV 0912345672; } >"$D/thu.csv"
R_SNV=$(file_req --as dm_snv --kind new-individual --rows "$D/thu.csv")
expect_field "$R_SNV" agency SNV
{ echo "$M01_HEADER,csr"; m01_row 'Vũ Văn Khoa' 075088006666 vvkhoa@dongnai.gov.vn SKHCN.CDS 0912345673 minh.csr; } >"$D/khoa.csv"

who=dm_snv
refused "$who request show" R15.2 request show --home "$H" --as "$who" --id "$R_PEND" --json
refused "$who request cancel" R15.2 request cancel --home "$H" --as "$who" --id "$R_PEND"
# A focal person decides nothing: R9.1 (or R15.2) either way.
refused "$who request decide --approve" '' request decide --home "$H" --as "$who" --id "$R_PEND" --approve
refused "$who request decide --reject" '' request decide --home "$H" --as "$who" --id "$R_PEND" --reject --reason 'không'
refused "$who file renew" R15.2 request file --home "$H" --as "$who" --kind renew --serial "$S5"
refused "$who file change" R15.2 request file --home "$H" --as "$who" --kind change --serial "$S5" --field email=khac@dongnai.gov.vn
refused "$who file revoke" R15.2 request file --home "$H" --as "$who" --kind revoke --serial "$S5" --reason retired
refused "$who file handover (revoked cert)" R15.2 request file --home "$H" --as "$who" --kind handover --serial "$S3"
refused "$who file lost" R15.2 request file --home "$H" --as "$who" --kind lost --serial "$S5"
refused "$who file recover" R15.2 request file --home "$H" --as "$who" --kind recover --serial "$S5"
refused "$who file new-individual at SKHCN.CDS" R15.2 request file --home "$H" --as "$who" --kind new-individual --rows "$D/khoa.csv"
refused "$who file new-individual --field agency=SKHCN" R15.2 request file --home "$H" --as "$who" --kind new-individual --rows "$D/khoa.csv" --field agency=SKHCN
[[ $(state_of "$R_PEND") == submitted ]] || check_later "request $R_PEND changed state under dm_snv's refused commands"
ok request list --home "$H" --as dm_snv --limit 1000 --json
cp "$OUT" "$WORK/list-snv.json"
ok request list --home "$H" --as dm_skhcn --limit 1000 --json
cp "$OUT" "$WORK/list-skhcn.json"
ok request list --home "$H" --as kiemtoan --limit 1000 --json
cp "$OUT" "$WORK/list-auditor.json"
python3 - "$WORK" "$R_SNV" "$R_PEND" <<'EOF' || check_later "request list per agency (R15.2): see above"
import json, sys
w, snv, pend = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda n: json.load(open(f"{w}/list-{n}.json", encoding="utf-8"))
snv_list, skhcn_list, all_list = load("snv"), load("skhcn"), load("auditor")
bad = []
if [r["id"] for r in snv_list] != [snv]:
    bad.append(f"dm_snv sees {[(r['id'], r['agency']) for r in snv_list]}, expected only [{snv}]")
if any(r["agency"] != "SNV" for r in snv_list):
    bad.append("dm_snv sees another agency's request")
if snv in [r["id"] for r in skhcn_list] or any(not r["agency"].startswith("SKHCN") for r in skhcn_list):
    bad.append(f"dm_skhcn sees {[(r['id'], r['agency']) for r in skhcn_list if r['agency'] != 'SKHCN']}")
if pend not in [r["id"] for r in skhcn_list]:
    bad.append(f"dm_skhcn does not see its own request {pend}")
ids = [r["id"] for r in all_list]
if snv not in ids or pend not in ids or ids != sorted(ids, reverse=True):
    bad.append(f"the auditor's list is {ids}: not every request, newest first")
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
# The subscriber neither files (R3.6) nor sees requests (R15.2); the auditor decides nothing.
refused "subscriber files new-individual" R3.6 request file --home "$H" --as tb --kind new-individual --rows "$D/khoa.csv"
refused "subscriber files renew" R3.6 request file --home "$H" --as tb --kind renew --serial "$S5"
refused "subscriber lists" R15.2 request list --home "$H" --as tb --json
refused "subscriber shows" R15.2 request show --home "$H" --as tb --id "$R_PEND" --json
refused "auditor files" R3.6 request file --home "$H" --as kiemtoan --kind renew --serial "$S5"
refused "auditor decides" R9.1 request decide --home "$H" --as kiemtoan --id "$R_PEND" --approve
refused "deciding a fulfilled request again" '' request decide --home "$H" --as cuc --id "$R_NEW" --approve
note "R15.2 / R3.6: $REFUSALS refusals so far"

# --- 3. a Mẫu 01 with two bad rows stores nothing and names both (R9.6) -------------------
{
  echo "$M01_HEADER"
  m01_row 'Phan Văn Bình' 075086007777 pvbinh@dongnai.gov.vn SKHCN.CDS 0912345674    # Dòng 2: good
  m01_row 'Hồ Thị Cúc' 07519000888 htcuc@dongnai.gov.vn SKHCN.CDS 0912345675         # Dòng 3: 11 digits
  m01_row 'Lý Văn Dũng' 075087009999 lvdung@gmail.com "$OU_NAME" 0912345676          # Dòng 4: not official
} >"$D/bad3.csv"
refused "Mẫu 01 with bad rows 3 and 4" R9.6 request file --home "$H" --as dm_skhcn --kind new-individual --rows "$D/bad3.csv"
grep -q '^kyso: .*Dòng 3.*cccd' "$ERR" || check_later "Mẫu 01: row 3's cccd is not named: $(tr '\n' '|' <"$ERR")"
grep -q '^kyso: .*Dòng 4.*email' "$ERR" || check_later "Mẫu 01: row 4's e-mail (gmail.com, R9.5) is not named: $(tr '\n' '|' <"$ERR")"
if grep -q 'Dòng 2' "$ERR"; then check_later "Mẫu 01: the good row 2 is reported: $(tr '\n' '|' <"$ERR")"; fi
# The same non-official row alone is named (so the check above is about the batch).
{ echo "$M01_HEADER"; sed -n 4p "$D/bad3.csv"; } >"$D/bad1.csv"
refused "Mẫu 01 with a gmail.com row" R9.6 request file --home "$H" --as dm_skhcn --kind new-individual --rows "$D/bad1.csv"
grep -q '^kyso: .*Dòng 2.*email' "$ERR" || check_later "Mẫu 01 (one row): the e-mail is not named: $(tr '\n' '|' <"$ERR")"

# --- 5. every state reachable and visible (before the audit part copies the home) ----------
ok request decide --home "$H" --as cuc --id "$R_PEND" --approve       # no CSR: waits, approved
grep -qx "request $R_PEND approved" "$OUT" || check_later "decide of $R_PEND printed '$(cat "$OUT")'"
expect_field "$R_PEND" state approved
expect_field "$R_PEND" certificate_serial null
{ echo "$M01_HEADER"; m01_row 'Cao Thị Én' 075191001212 ctien@dongnai.gov.vn SKHCN.CDS 0912345677; } >"$D/en.csv"
R_REJ=$(file_req --as dm_skhcn --kind new-individual --rows "$D/en.csv")
REJ_REASON='Thiếu văn bản đề nghị của cơ quan quản lý trực tiếp (R9.2)'
refused "reject without --reason" '' request decide --home "$H" --as cuc --id "$R_REJ" --reject
ok request decide --home "$H" --as cuc --id "$R_REJ" --reject --reason "$REJ_REASON"
expect_field "$R_REJ" state rejected
expect_field "$R_REJ" reason "$REJ_REASON"
expect_field "$R_REJ" decided_by cuc
{ echo "$M01_HEADER"; m01_row 'Mai Văn Phúc' 075092001313 mvphuc@dongnai.gov.vn SKHCN.CDS 0912345678; } >"$D/phuc.csv"
R_CANC=$(file_req --as dm_skhcn --kind new-individual --rows "$D/phuc.csv")
ok request cancel --home "$H" --as dm_skhcn --id "$R_CANC"
expect_field "$R_CANC" state cancelled
refused "cancelling a cancelled request" '' request cancel --home "$H" --as dm_skhcn --id "$R_CANC"
refused "deciding a cancelled request" '' request decide --home "$H" --as cuc --id "$R_CANC" --approve
R_SUB=$R_SNV
for pair in "submitted $R_SUB" "approved $R_PEND" "rejected $R_REJ" "fulfilled $R_NEW" "cancelled $R_CANC"; do
  read -r st id <<<"$pair"
  ok request list --home "$H" --state "$st" --limit 1000 --json
  python3 -c 'import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
ok = any(r["id"] == int(sys.argv[3]) for r in rows) and all(r["state"] == sys.argv[2] for r in rows)
sys.exit(0 if ok else 1)' "$OUT" "$st" "$id" ||
    check_later "request list --state $st: $(tr -d '\n ' <"$OUT" | head -c 400) (expected request $id)"
  [[ $(state_of "$id") == "$st" ]] || check_later "request $id: request show state $(field state), expected $st"
done
note "states submitted/approved/rejected/fulfilled/cancelled visible"

# --- 4. audit tampering (each case on its own copy: sqlite3 edits are irreversible) -------
audit_ok "$H"
EVENTS=$(sql "$H" "select count(*) from audit_events")
# tamper_case NAME SQL WANT_ID: copy, tamper with SQL, expect "audit chain broken at event WANT_ID".
tamper_case() {
  local name=$1 q=$2 want=$3 copy="$WORK/tamper-$1"
  cp -a "$H" "$copy"
  sqlite3 -batch "$copy/kyso.db" "$q" || fail "tamper $name: sqlite3 failed"
  if "$KYSO" audit verify --home "$copy" >"$OUT" 2>"$ERR"; then RC=0; else RC=$?; fi
  if ((RC != 1)); then
    check_later "tamper $name: audit verify exited $RC: $(cat "$OUT" "$ERR")"
  elif ! grep -q "^kyso: audit chain broken at event $want: " "$ERR"; then
    check_later "tamper $name: expected 'audit chain broken at event $want', got: $(cat "$ERR")"
  fi
  rm -rf "$copy"
}
E_FILE=$(sql "$H" "select id from audit_events where action='request.file' and object='$R_NEW'")
E_ISSUE=$(sql "$H" "select id from audit_events where action='cert.issue' and object='$S1'")
E_A=$(sql "$H" "select id from audit_events where action='request.file' and object='$R_RENEW'")
E_B=$(sql "$H" "select id from audit_events where action='request.file' and object='$R_CHANGE'")
[[ -n $E_FILE && -n $E_ISSUE && -n $E_A && -n $E_B && $E_A -lt $E_B && $E_B -lt $EVENTS ]] ||
  fail "audit events not found: file $E_FILE issue $E_ISSUE renew $E_A change $E_B of $EVENTS"
[[ $(sql "$H" "select (select payload from audit_events where id=$E_A) != (select payload from audit_events where id=$E_B)") == 1 ]] ||
  fail "test setup: events $E_A and $E_B have the same payload"
# (a) one payload edited: the filing of the first request now says SNV filed it.
[[ $(sql "$H" "select instr(payload, '\"SKHCN\"') > 0 from audit_events where id=$E_FILE") == 1 ]] ||
  fail "test setup: event $E_FILE does not name SKHCN"
tamper_case edit "update audit_events set payload=replace(payload, '\"SKHCN\"', '\"SNV\"') where id=$E_FILE" "$E_FILE"
# (b) a middle row deleted.
tamper_case delete "delete from audit_events where id=$E_ISSUE" "$E_ISSUE"
# (c) two rows' payloads swapped; and two rows swapped whole, by id through a temporary id.
tamper_case swap-payload "create temp table t as select id, payload from audit_events where id in ($E_A, $E_B);
  update audit_events set payload=(select payload from t where t.id = case audit_events.id when $E_A then $E_B else $E_A end) where id in ($E_A, $E_B)" "$E_A"
tamper_case swap-rows "update audit_events set id=-1 where id=$E_A; update audit_events set id=$E_A where id=$E_B; update audit_events set id=$E_B where id=-1" "$E_A"
audit_ok "$H"   # the original is untouched
note "audit: edit at $E_FILE, deletion of $E_ISSUE, swaps of $E_A/$E_B detected; original intact"

# A forger who knows the hash scheme (src/kyso/store/audit_hash.cc) rewrites an event and
# recomputes every hash after it: the chain is consistent again, but the signed checkpoint
# recorded the old head.
ok audit checkpoint --home "$H"
CP_LAST=$(sql "$H" "select max(last_event_id) from audit_checkpoints")
[[ -n $CP_LAST ]] || fail "kyso audit checkpoint stored no checkpoint: $(cat "$OUT")"
audit_ok "$H"
grep -q "1 signed checkpoint(s) verified" <<<"$("$KYSO" audit verify --home "$H")" ||
  check_later "audit verify does not count the new checkpoint"
cat >"$WORK/forge.py" <<'EOF'
# forge.py DB EVENT_ID: rewrite the event's payload and recompute the chain from there on.
import hashlib, sqlite3, struct, sys
db, target = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
def u64(v): return struct.pack(">Q", v)
def chain_hash(prev, id_, at, actor, action, obj, payload):
    m = hashlib.sha256()
    m.update(u64(len(prev)) + prev + u64(id_))
    for s in (at, actor, action, obj, payload):
        b = s.encode("utf-8")
        m.update(u64(len(b)) + b)
    return m.digest()
rows = db.execute("select id, at, actor, action, object, payload, prev_hash, hash"
                  " from audit_events order by id").fetchall()
prev = bytes(32)
for r in rows:  # the scheme is known: it reproduces every stored hash
    if chain_hash(prev, *r[:6]) != r[7]:
        sys.exit(f"forge.py: cannot reproduce the hash of event {r[0]}")
    prev = r[7]
prev = None
for id_, at, actor, action, obj, payload, p, h in rows:
    if id_ < target:
        prev = h
        continue
    if id_ == target:
        payload = '{"forged":"the attacker rewrote this event"}'
    h = chain_hash(prev, id_, at, actor, action, obj, payload)
    db.execute("update audit_events set payload=?, prev_hash=?, hash=? where id=?", (payload, prev, h, id_))
    prev = h
db.commit()
EOF
cp -a "$H" "$WORK/forged"
python3 "$WORK/forge.py" "$WORK/forged/kyso.db" "$CP_LAST" || fail "forge.py failed"
if "$KYSO" audit verify --home "$WORK/forged" >"$OUT" 2>"$ERR"; then RC=0; else RC=$?; fi
((RC == 1)) || check_later "forged chain (event $CP_LAST rewritten, hashes recomputed): audit verify exited $RC: $(cat "$OUT" "$ERR")"
grep -q "^kyso: audit chain broken at event $CP_LAST: .*checkpoint" "$ERR" ||
  check_later "forged chain: expected the checkpoint at event $CP_LAST to be named: $(cat "$ERR")"
# Control: the forgery is hash-correct, i.e. only the signed checkpoint catches it. With the
# checkpoint rows gone, the chain check itself must not complain about hashes.
sqlite3 -batch "$WORK/forged/kyso.db" "delete from audit_checkpoints"
if "$KYSO" audit verify --home "$WORK/forged" >"$OUT" 2>"$ERR"; then
  note "NOTE: forged chain with its checkpoint rows deleted verifies: $(cat "$OUT")"
elif grep -q "does not match" "$ERR"; then
  fail "test setup: forge.py did not recompute the chain correctly: $(cat "$ERR")"
fi
rm -rf "$WORK/forged"
audit_ok "$H"
note "audit: forged chain caught by the checkpoint at event $CP_LAST"

# The refusals above left nothing behind and nothing failed on the way.
audit_ok "$H"
finish_checks
pass "lifecycle $S1 -> $S2 -> $S3 revoked, $REFUSALS refusals, 5 audit tamperings"
