#!/usr/bin/env bash
# bench/run.sh — build (if needed) and run kyso's benchmarks, then print a summary table.
#
#   bench/run.sh            all three: issuance, CRL, OCSP (about 4-5 minutes on 2 cores)
#   bench/run.sh issue crl  only those
#   QUICK=1 bench/run.sh    smaller sizes (N=2000 issuances, CRLs of 10k/100k, 3 s wrk runs)
#   bench/run.sh workflow   registration workflow vs bare issuance + `request list` over 1M
#                           requests (issue 3; not in the default set, about 2-4 minutes)
#   bench/run.sh devices    token enrolment vs pkcs11-tool, CMS signing through the MSSP
#                           simulator vs a token vs openssl cms (issue 4; about 1 minute)
#   bench/run.sh verify     kyso verify vs pdfsig on 1000 signed PDFs and the DSS PAdES samples,
#                           MB/s on a 100 MiB PDF vs openssl speed sha256 (issue 6; 1-2 minutes)
#   bench/run.sh sign_pdf   PDF signing of 1 and 100 MiB: kyso sign pdf vs openssl dgst + token
#                           signature, pdfsig, podofosign; peak RSS (issue 5; 1-2 minutes)
#
# Environment: BUILD (default <repo>/build-bench). Full output goes to
# $BUILD/bench/run-<time>.log; the table is printed at the end.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
export BUILD
WHICH=("$@")
[ ${#WHICH[@]} -gt 0 ] || WHICH=(issue crl ocsp)

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" --target kyso kyso_bench_issue kyso_bench_crl >/dev/null
case " ${WHICH[*]} " in
  *" workflow "*) cmake --build "$BUILD" --target kyso_bench_workflow >/dev/null ;;
esac
case " ${WHICH[*]} " in
  *" devices "*) cmake --build "$BUILD" --target kyso-mssp-simulator >/dev/null ;;
esac

mkdir -p "$BUILD/bench"
LOG=$BUILD/bench/run-$(date +%Y%m%dT%H%M%S).log
: > "$LOG"

{
  echo "== machine =="
  echo "date      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc     $(nproc)"
  echo "cpu       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "openssl   $(openssl version)"
  echo "softhsm2  $(softhsm2-util --version 2>/dev/null || echo '?')"
  echo "sqlite3   $(sqlite3 --version | cut -d' ' -f1)"
  echo "wrk       $(wrk --version 2>&1 | head -1 | cut -d' ' -f2)"
  echo "kyso      $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "load      $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$LOG"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.7) }'; then
  echo "WARNING: load average $load1 — other work is running; numbers will be low and noisy." | tee -a "$LOG"
fi

if [ -n "${QUICK:-}" ]; then
  ISSUE_ARGS=(-n 2000); CRL_ARGS=(--sizes 10000,100000); OCSP_ENV=(N=300 K=50 DURATION=3)
  WF_ARGS=(-n 1000 --list-rows 100000 --runs 5); DEV_ENV=(N=3 M=20)
  SIGN_PDF_ENV=(SIZES_MB="1 20" RUNS_SMALL=3 RUNS_LARGE=1); VERIFY_ENV=(N=200 BIG_MB=20)
else
  ISSUE_ARGS=(-n 10000); CRL_ARGS=(--sizes 100000,1000000); OCSP_ENV=(N=1000 K=100 DURATION=10)
  WF_ARGS=(-n 10000 --list-rows 1000000 --runs 20); DEV_ENV=(N=10 M=100)
  SIGN_PDF_ENV=(SIZES_MB="1 100" RUNS_SMALL=5 RUNS_LARGE=3); VERIFY_ENV=(N=1000 BIG_MB=100)
fi

for b in "${WHICH[@]}"; do
  echo | tee -a "$LOG"
  case "$b" in
    issue) "$BUILD/bench/kyso_bench_issue" "${ISSUE_ARGS[@]}" 2>&1 | tee -a "$LOG" ;;
    crl) "$BUILD/bench/kyso_bench_crl" "${CRL_ARGS[@]}" 2>&1 | tee -a "$LOG" ;;
    ocsp) env "${OCSP_ENV[@]}" "$REPO/bench/ocsp.sh" 2>&1 | tee -a "$LOG" ;;
    workflow) "$BUILD/bench/kyso_bench_workflow" "${WF_ARGS[@]}" 2>&1 | tee -a "$LOG" ;;
    devices) env "${DEV_ENV[@]}" "$REPO/bench/devices.sh" 2>&1 | tee -a "$LOG" ;;
    sign_pdf) env "${SIGN_PDF_ENV[@]}" "$REPO/bench/sign_pdf.sh" 2>&1 | tee -a "$LOG" ;;
    verify) env "${VERIFY_ENV[@]}" "$REPO/bench/verify.sh" 2>&1 | tee -a "$LOG" ;;
    *) echo "run.sh: unknown benchmark $b (issue, crl, ocsp, workflow, devices, sign_pdf, verify)" >&2; exit 2 ;;
  esac
done

# Summary from the RESULT lines.
echo
python3 - "$LOG" <<'PY' | tee -a "$LOG"
import sys
r = {}
for line in open(sys.argv[1], encoding="utf-8"):
    f = line.split()
    if len(f) >= 3 and f[0] == "RESULT":
        r[f[1]] = f[2]
v = lambda k: r.get(k, "-")
rows = [("benchmark", "kyso", "peer", "ratio", "goal"), None]
if "verify.folder.kyso_docs_per_s" in r:
    rows.append(("kyso verify, signed 1 MiB PDFs, docs/s", v("verify.folder.kyso_docs_per_s"),
                 "pdfsig -P2 " + v("verify.folder.pdfsig_docs_per_s"), v("verify.folder.ratio_kyso_speed_over_pdfsig") + "x", ">= 5x"))
if "verify.dss.kyso_docs_per_s" in r:
    rows.append((f"kyso verify, DSS PAdES samples ({v('verify.dss.files')}), docs/s", v("verify.dss.kyso_docs_per_s"),
                 "pdfsig -P2 " + v("verify.dss.pdfsig_docs_per_s"), v("verify.dss.ratio_kyso_speed_over_pdfsig") + "x", ">= 5x"))
if "verify.big.kyso_mb_per_s" in r:
    rows.append(("kyso verify, one large PDF, MB/s", v("verify.big.kyso_mb_per_s"),
                 "openssl speed sha256 " + v("verify.big.sha256_mb_per_s"), v("verify.big.ratio_over_sha256"), ">= 0.5"))
for mb in sorted({int(k.split(".")[1]) for k in r if k.startswith("sign_pdf.") and k.endswith(".kyso_ms")}):
    p = f"sign_pdf.{mb}."
    rows.append((f"kyso sign pdf, {mb} MiB, ms", v(p + "kyso_ms"), "openssl dgst + token sign " + v(p + "limit_ms"),
                 v(p + "ratio_kyso_over_limit") + " (time)", "<= 1.3"))
    rows.append(("  limit + dd conv=fsync of the output", "", v(p + "limit_with_write_ms"), v(p + "ratio_kyso_over_limit_with_write"), ""))
    rows.append(("  pdfsig -add-signature", "", v(p + "pdfsig_ms"), v(p + "ratio_kyso_over_pdfsig"), ""))
    rows.append(("  podofosign", "", v(p + "podofosign_ms"), v(p + "ratio_kyso_over_podofosign"), ""))
    rows.append((f"  peak RSS MiB (input {v(p + 'input_mb')})", v(p + "kyso_rss_mb"),
                 f"pdfsig {v(p + 'pdfsig_rss_mb')}, podofosign {v(p + 'podofosign_rss_mb')}",
                 "+" + v(p + "kyso_rss_above_input_mb") + " above input", "< 64 above input" if mb >= 100 else ""))
sp = v("openssl.speed.rsa2048.sign_per_s.1core")
for t in ("2", "1"):
    if f"issue.threads{t}.per_s" in r:
        rows.append((f"issuance/s, {t} signing thread(s)", v(f"issue.threads{t}.per_s"),
                     f"openssl speed rsa2048 {sp} sign/s", v(f"issue.threads{t}.ratio_vs_openssl_1core"),
                     ">= 0.7" if t == "2" else ""))
if "openssl.speed.rsa2048.sign_per_s.multi2" in r:
    rows.append(("  openssl speed -multi 2", "", v("openssl.speed.rsa2048.sign_per_s.multi2") + " sign/s", "", ""))
if "raw.token.sign_per_s.threads1" in r:
    rows.append(("  raw SoftHSM2 C_Sign/s, 1 / 2 threads", v("raw.token.sign_per_s.threads1") + " / " + v("raw.token.sign_per_s.threads2"),
                 "in-process " + v("raw.soft.sign_per_s.threads1") + " / " + v("raw.soft.sign_per_s.threads2"), "", ""))
if "issue.softkey.threads2.per_s" in r:
    rows.append(("  issuance/s, in-process key, 2 threads", v("issue.softkey.threads2.per_s"), "", "", ""))
if "issue.nosign.per_s" in r:
    rows.append(("  issuance/s, signing removed (ceiling)", v("issue.nosign.per_s"), "", "", ""))
for name, label, goal in (("many", "OCSP req/s, K serials, keep-alive", ">= 20x"),
                          ("one", "OCSP req/s, one serial, keep-alive", ">= 20x"),
                          ("many.close", "OCSP req/s, Connection: close", ""),
                          ("nonce", "OCSP req/s, nonce (signed per request)", ""),
                          ("many.under_nonce_load", "OCSP req/s, cached, while 8 conns send nonces", "")):
    k = f"ocsp.kyso.{name}.req_per_s"
    if k in r:
        peer = f"ocsp.openssl.{name}.req_per_s"
        rows.append((label, str(round(float(r[k]))),
                     "openssl ocsp " + str(round(float(r[peer]))) if peer in r else "",
                     v(f"ocsp.ratio.{name}") + "x" if f"ocsp.ratio.{name}" in r else "", goal))
sizes = sorted({int(k.split(".")[1]) for k in r if k.startswith("crl.") and k.endswith(".kyso_s")})
for n in sizes:
    rows.append((f"CRL, {n:,} revoked: generation s", v(f"crl.{n}.kyso_s"), "openssl ca -gencrl " + v(f"crl.{n}.openssl_s") + " s",
                 v(f"crl.{n}.ratio_openssl_over_kyso") + "x", ""))
    rows.append((f"  kyso serve refresh per 200 ms tick, ms", v(f"crl.{n}.serve_refresh_ms"), "", "", ""))
    rows.append((f"  kyso GET /crl/issuing.crl handler, ms", v(f"crl.{n}.serve_get_crl_ms"), "", "", ""))
    if f"crl.{n}.revoke_one_s" in r:
        rows.append((f"  kyso cert revoke (one), s", v(f"crl.{n}.revoke_one_s"), "", "", ""))
    if f"crl.{n}.covering.kyso_s" in r:
        rows.append((f"  generation s with a covering index", v(f"crl.{n}.covering.kyso_s"), "", "", ""))
if "ocsp.setup.cli_issue_per_s" in r:
    rows.append(("kyso cert issue-batch, whole CLI, /s", v("ocsp.setup.cli_issue_per_s"), "", "", ""))
if "wf.ratio" in r:
    rows.append((f"workflow File+Decide, {v('wf.n')} requests, /s", v("wf.per_s"),
                 "bare IssueBatch " + v("wf.bare_per_s") + "/s", v("wf.ratio") + " (time)", "<= 1.5"))
    rows.append(("  write transactions per request", v("wf.txns_per_request"), "", "", ""))
    rows.append(("  fsync'd COMMIT, bare table, ms", v("wf.commit_full_ms"), "", "", ""))
    if "wf.projected_batch_ratio" in r:
        rows.append(("  projected batch File/Decide (store span APIs)", v("wf.projected_batch_s") + " s", "",
                     v("wf.projected_batch_ratio") + " (time)", "<= 1.5"))
names = ["console, all", "console, --state submitted", "console, --overdue", "focal SKHCN",
         "focal SKHCN, --state submitted", "focal SKHCN, --overdue", "focal X.DINHQUAN, --state approved",
         "focal X.DINHQUAN, --overdue"]
for i, name in enumerate(names):
    if f"list.{i}.wf_ms" in r:
        fix = f"list.{i}.fixC_ms"
        rows.append((f"request list ms: {name} (p1 / p2)", v(f"list.{i}.wf_ms") + " / " + v(f"list.{i}.page2_ms"),
                     ("with index+ANALYZE " + v(fix)) if fix in r else "", "", "< 100"))
if "enrol_kyso_ms" in r:
    ratio = lambda a, b: f"{float(r[a]) / float(r[b]):.2f}"
    rows.append(("token enrolment, ms (kyso token enroll)", v("enrol_kyso_ms"),
                 "pkcs11-tool init+keygen+write " + v("enrol_pkcs11tool_ms"), ratio("enrol_kyso_ms", "enrol_pkcs11tool_ms") + " (time)", ""))
    rows.append(("  floor: RSA-2048 key generation on the token, ms", v("enrol_keygen_ms"), "", ratio("enrol_kyso_ms", "enrol_keygen_ms") + " (time)", ""))
    rows.append(("CMS signature via MSSP simulator, ms/process", v("sign_sim_ms"),
                 "openssl cms -sign " + v("sign_openssl_ms"), ratio("sign_sim_ms", "sign_openssl_ms") + " (time)", ""))
    rows.append(("  CMS signature on a PKI Token (SoftHSM2), ms", v("sign_token_ms"), "", ratio("sign_token_ms", "sign_openssl_ms") + " (time)", ""))
w = [max(len(row[i]) for row in rows if row) for i in range(5)]
print("== summary ==")
for row in rows:
    if row is None:
        print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    else:
        print("| " + " | ".join(c.ljust(x) for c, x in zip(row, w)) + " |")
print("(ratios: issuance and OCSP are kyso / peer; CRL is openssl time / kyso time)")
PY
echo "full log: $LOG"
