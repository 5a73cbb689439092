#!/usr/bin/env bash
# bench/sign_pdf.sh — PAdES signing of large PDFs: `kyso sign pdf` against the physical limit,
# poppler's pdfsig and podofosign, with peak memory.
#
# 1. Test PDFs of SIZES_MB (default "1 100") MiB from bench/make_pdf.py: one page per MiB, each
#    with an uncompressed image of random bytes (incompressible), classic xref table;
#    `qpdf --check` must pass on each.
# 2. A deployment (`kyso init`, RSA-2048 keys by default) and a signer enrolled on a SoftHSM2
#    token with `kyso token enroll` (RSA-2048 key generated on the token), as bench/devices.sh
#    does. For the peers, which cannot use kyso's token, an equivalent software signer: an
#    RSA-2048 key, its certificate issued by the same deployment (`kyso cert issue`), exported
#    as PEM (podofosign) and PKCS#12 imported into an NSS database (pdfsig).
# 3. For each size, interleaved in the same loop (RUNS_SMALL runs for files up to 10 MiB,
#    RUNS_LARGE above; the median is reported), each a separate process timed wall-clock with
#    its peak RSS from `/usr/bin/time -f %M`:
#      (a) the physical limit = `openssl dgst -sha256 FILE` + one RSA-2048 signature on the
#          token: `pkcs11-tool --sign -m SHA256-RSA-PKCS` of a 32-byte input with the same
#          token and PIN (process start, module load, login, C_Sign — what any token signer
#          pays once; its own SHA-256 over 32 bytes is negligible);
#      (b) `kyso sign pdf IN --out OUT --home H --module ... --token-label ... --pin-file ...
#          --offline --level B-B` (--offline keeps the network out). This includes kyso's
#          R6.1 check (poppler: page 1 text and the Info dictionary, sign/anchor.h);
#      (c) `pdfsig -add-signature -digest SHA256 -nssdir ... -nick signer IN OUT`
#          (poppler 22.12, NSS software key; adbe.pkcs7.detached: its -etsi "is not supported
#          yet with -add-signature");
#      (d) `podofosign -digest SHA256 -in IN -out OUT -cert signer.pem -pkey signer.key`.
#    The files are read once before the loop, so all runs read from the page cache.
#    Also timed, as the floor of writing the output (not part of "the limit"): `cp IN OUT` and
#    `dd conv=fsync` (kyso fsyncs the signed file before renaming it into place; the peers
#    do not), giving "limit with a durable write" = limit + dd conv=fsync.
# 4. Ratios kyso/limit, kyso/pdfsig, kyso/podofosign (time), and kyso's peak RSS minus the
#    input size ("RSS above input"; goal under 64 MiB for the largest file). kyso maps its
#    input, so its RSS counts the file's pages (clean page cache); what is above the input is
#    its own memory plus the libraries every kyso process maps (`kyso --help`, also reported).
# 5. Checks: every output starts with the exact bytes of its input; the last output of each
#    signer is verified with `pdfsig -nocert` ("Signature is Valid"); kyso's with qpdf --check.
#
# Environment: BUILD (default <repo>/build-bench), SIZES_MB ("1 100"), RUNS_SMALL (5),
# RUNS_LARGE (3), PERF=1 (also `perf record` one kyso run on the largest file and print the
# top of the profile), KYSO_BENCH_TMP, KYSO_BENCH_KEEP=1.
# Prints "RESULT key value" lines for bench/run.sh (sign_pdf.<MiB>.*).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
KYSO=$BUILD/kyso
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
SIZES_MB=${SIZES_MB:-"1 100"}
RUNS_SMALL=${RUNS_SMALL:-5}
RUNS_LARGE=${RUNS_LARGE:-3}
for tool in "$KYSO" openssl pkcs11-tool pdfsig podofosign certutil pk12util qpdf python3 /usr/bin/time cmp; do
  command -v "$tool" >/dev/null 2>&1 || { echo "sign_pdf.sh: $tool not found" >&2; exit 1; }
done

T=$(mktemp -d "${KYSO_BENCH_TMP:-/tmp}/kyso-bench-sign-pdf.XXXXXX")
cleanup() {
  if [ -n "${KYSO_BENCH_KEEP:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
now() { date +%s%N; }
result() { echo "RESULT $1 $2"; }

echo "== kyso PDF signing benchmark =="
echo "cores $(nproc), load $(cut -d' ' -f1 /proc/loadavg), sizes ${SIZES_MB} MiB, runs $RUNS_SMALL (<= 10 MiB) / $RUNS_LARGE"
echo "pdfsig $(pdfsig -v 2>&1 | head -1 | awk '{print $3}'), podofo $(dpkg-query -W -f '${Version}' libpodofo-utils 2>/dev/null || echo '?'), qpdf $(qpdf --version | head -1 | awk '{print $3}')"

# --- deployment, token signer, software signer -----------------------------------------------
H=$T/home
"$KYSO" init --home "$H" >/dev/null
"$KYSO" agency import --home "$H" "$REPO/../shared/domain/demo-agencies.csv" >/dev/null
printf 'bench-password-2026\n' >"$T/pw"
"$KYSO" user add --home "$H" --name cuc --role provider --password-file "$T/pw" >/dev/null
"$KYSO" user add --home "$H" --name dm --role focal --agency SKHCN --password-file "$T/pw" >/dev/null
export SOFTHSM2_CONF=$H/softhsm2.conf
printf 'ho_ten,ngay_sinh,cccd,ngay_cap,noi_cap,email,co_quan,tinh,chuc_vu,dien_thoai,serial_cu,sim_pki\nNguyễn Văn An,12/04/1988,075188001234,20/07/2021,Cục Cảnh sát QLHC về TTXH,an@dongnai.gov.vn,SKHCN.CDS,Đồng Nai,Chuyên viên,0912345678,,\n' >"$T/rows.csv"
id=$("$KYSO" request file --home "$H" --as dm --kind new-individual --rows "$T/rows.csv" | tail -n 1)
"$KYSO" request decide --home "$H" --as cuc --id "$id" --approve >/dev/null
"$KYSO" token enroll --home "$H" --as cuc --request "$id" --module "$SOFTHSM" --token-label signer \
  --pin-out "$T/signer.pin" >/dev/null
TOKEN=(--module "$SOFTHSM" --token-label signer --pin-file "$T/signer.pin")

openssl req -new -newkey rsa:2048 -nodes -keyout "$T/sw.key" -subj /CN=x -out "$T/sw.csr" 2>/dev/null
"$KYSO" cert issue --home "$H" --profile individual --csr "$T/sw.csr" --name "Nguyễn Văn An" \
  --email an.sw@dongnai.gov.vn --org "Sở Khoa học và Công nghệ" --out "$T/sw.pem" >/dev/null
"$KYSO" ca chain --home "$H" >"$T/chain.pem"
openssl pkcs12 -export -inkey "$T/sw.key" -in "$T/sw.pem" -certfile "$T/chain.pem" -name signer \
  -passout pass:bench-p12 -out "$T/sw.p12" 2>/dev/null
mkdir -p "$T/nss"
certutil -N --empty-password -d "sql:$T/nss" >/dev/null
pk12util -i "$T/sw.p12" -d "sql:$T/nss" -W bench-p12 >/dev/null 2>&1
head -c 32 /dev/urandom >"$T/digest.bin"

# --- timing helpers ---------------------------------------------------------------------------
# timed NAME CMD...: runs CMD once (stdout and stderr to $T/NAME.log), appends "µs rss_kB" to
# $T/NAME.times; a failure stops the benchmark.
timed() {
  local name=$1 a b
  shift
  a=$(now)
  if ! /usr/bin/time -f %M -o "$T/rss" "$@" >"$T/$name.log" 2>&1; then
    echo "sign_pdf.sh: $name failed: $*" >&2
    cat "$T/$name.log" >&2
    exit 1
  fi
  b=$(now)
  echo "$(((b - a) / 1000)) $(tail -n 1 "$T/rss")" >>"$T/$name.times"
}
median_ms() {
  sort -n "$T/$1.times" | awk '{v[NR] = $1} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}
rss_mb() { awk 'm < $2 {m = $2} END {printf "%.1f", m / 1024}' "$T/$1.times"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
starts_with() { cmp -s -n "$(stat -c %s "$1")" "$1" "$2"; }

# kyso's fixed cost: a process that loads its libraries and prints its help.
for r in 1 2 3 4 5; do timed start "$KYSO" --help; done
result sign_pdf.kyso_start_ms "$(median_ms start)"
result sign_pdf.kyso_start_rss_mb "$(rss_mb start)"

# --- per size ---------------------------------------------------------------------------------
for mb in $SIZES_MB; do
  in=$T/in$mb.pdf
  python3 "$REPO/bench/make_pdf.py" "$in" $((mb * 1048576))
  qpdf --check "$in" >"$T/qpdf.log" 2>&1 || { echo "sign_pdf.sh: qpdf --check $in failed" >&2; cat "$T/qpdf.log" >&2; exit 1; }
  in_bytes=$(stat -c %s "$in")
  cat "$in" >/dev/null
  # Written back now, so that no timed fsync (kyso's, dd's) pays for flushing the new input.
  sync
  runs=$RUNS_SMALL
  ((mb <= 10)) || runs=$RUNS_LARGE
  p=sp$mb
  for r in $(seq "$runs"); do
    rm -f "$T"/out.*.pdf
    timed "$p.dgst" openssl dgst -sha256 "$in"
    timed "$p.token" pkcs11-tool --module "$SOFTHSM" --token-label signer --login \
      --pin "$(cat "$T/signer.pin")" --sign -m SHA256-RSA-PKCS --input-file "$T/digest.bin" \
      --output-file "$T/sig.bin"
    timed "$p.cp" cp "$in" "$T/out.cp.pdf"
    rm -f "$T/out.cp.pdf" # its dirty pages would otherwise be flushed by the next fsync
    timed "$p.ddsync" dd if="$in" of="$T/out.dd.pdf" bs=1M conv=fsync status=none
    rm -f "$T/out.dd.pdf"
    timed "$p.kyso" "$KYSO" sign pdf "$in" --out "$T/out.kyso.pdf" --home "$H" "${TOKEN[@]}" --offline \
      --level B-B
    timed "$p.pdfsig" pdfsig -add-signature -digest SHA256 -nssdir "sql:$T/nss" -nick signer \
      -new-signature-field-name "Sig$r" "$in" "$T/out.pdfsig.pdf"
    timed "$p.podofo" podofosign -digest SHA256 -in "$in" -out "$T/out.podofo.pdf" -cert "$T/sw.pem" \
      -pkey "$T/sw.key"
  done
  # Checks on the last outputs.
  for s in kyso pdfsig podofo; do
    starts_with "$in" "$T/out.$s.pdf" || { echo "sign_pdf.sh: $s output does not begin with its input" >&2; exit 1; }
    pdfsig -nocert "$T/out.$s.pdf" >"$T/verify.$s" 2>&1 || true
    grep -q "Signature is Valid" "$T/verify.$s" ||
      { echo "sign_pdf.sh: pdfsig does not find $s's signature valid:" >&2; cat "$T/verify.$s" >&2; exit 1; }
  done
  qpdf --check "$T/out.kyso.pdf" >"$T/qpdf.log" 2>&1 || { echo "sign_pdf.sh: qpdf --check of kyso's output failed" >&2; cat "$T/qpdf.log" >&2; exit 1; }
  grep -q "ETSI.CAdES.detached" "$T/verify.kyso" || echo "note: pdfsig does not call kyso's signature ETSI.CAdES.detached" >&2

  dgst=$(median_ms "$p.dgst")
  tok=$(median_ms "$p.token")
  limit=$(awk -v a="$dgst" -v b="$tok" 'BEGIN {printf "%.1f", a + b}')
  cp_ms=$(median_ms "$p.cp")
  ddsync_ms=$(median_ms "$p.ddsync")
  limit_w=$(awk -v a="$limit" -v b="$ddsync_ms" 'BEGIN {printf "%.1f", a + b}')
  kyso=$(median_ms "$p.kyso")
  pdfsig_ms=$(median_ms "$p.pdfsig")
  podofo_ms=$(median_ms "$p.podofo")
  in_mb=$(awk -v b="$in_bytes" 'BEGIN {printf "%.1f", b / 1048576}')
  kyso_rss=$(rss_mb "$p.kyso")
  echo "-- $mb MiB ($in_bytes bytes), median of $runs runs, ms (peak RSS MiB):"
  printf '   limit %s = openssl dgst %s (%s) + pkcs11-tool --sign %s (%s)\n' "$limit" "$dgst" "$(rss_mb "$p.dgst")" "$tok" "$(rss_mb "$p.token")"
  printf '   writing the output: cp %s, dd conv=fsync %s (kyso fsyncs its output, the peers do not)\n' "$cp_ms" "$ddsync_ms"
  printf '   limit with a durable write %s\n' "$limit_w"
  printf '   kyso sign pdf %s (%s)   pdfsig %s (%s)   podofosign %s (%s)\n' "$kyso" "$kyso_rss" \
    "$pdfsig_ms" "$(rss_mb "$p.pdfsig")" "$podofo_ms" "$(rss_mb "$p.podofo")"
  echo "   all runs (µs kB): kyso $(tr '\n' ',' <"$T/$p.kyso.times") pdfsig $(tr '\n' ',' <"$T/$p.pdfsig.times") podofosign $(tr '\n' ',' <"$T/$p.podofo.times")"
  result "sign_pdf.$mb.input_mb" "$in_mb"
  result "sign_pdf.$mb.runs" "$runs"
  result "sign_pdf.$mb.dgst_ms" "$dgst"
  result "sign_pdf.$mb.token_sign_ms" "$tok"
  result "sign_pdf.$mb.limit_ms" "$limit"
  result "sign_pdf.$mb.cp_ms" "$cp_ms"
  result "sign_pdf.$mb.dd_fsync_ms" "$ddsync_ms"
  result "sign_pdf.$mb.limit_with_write_ms" "$limit_w"
  result "sign_pdf.$mb.kyso_ms" "$kyso"
  result "sign_pdf.$mb.pdfsig_ms" "$pdfsig_ms"
  result "sign_pdf.$mb.podofosign_ms" "$podofo_ms"
  result "sign_pdf.$mb.ratio_kyso_over_limit" "$(ratio "$kyso" "$limit")"
  result "sign_pdf.$mb.ratio_kyso_over_limit_with_write" "$(ratio "$kyso" "$limit_w")"
  result "sign_pdf.$mb.ratio_kyso_over_pdfsig" "$(ratio "$kyso" "$pdfsig_ms")"
  result "sign_pdf.$mb.ratio_kyso_over_podofosign" "$(ratio "$kyso" "$podofo_ms")"
  result "sign_pdf.$mb.kyso_rss_mb" "$kyso_rss"
  result "sign_pdf.$mb.kyso_rss_above_input_mb" "$(awk -v a="$kyso_rss" -v b="$in_mb" 'BEGIN {printf "%.1f", a - b}')"
  result "sign_pdf.$mb.pdfsig_rss_mb" "$(rss_mb "$p.pdfsig")"
  result "sign_pdf.$mb.podofosign_rss_mb" "$(rss_mb "$p.podofo")"
  result "sign_pdf.$mb.dgst_rss_mb" "$(rss_mb "$p.dgst")"
  rm -f "$T"/out.*.pdf
  ((mb <= 10)) || rm -f "$in"
done

if [ -n "${PERF:-}" ] && command -v perf >/dev/null 2>&1; then
  mb=${SIZES_MB##* }
  in=$T/in$mb.pdf
  [ -f "$in" ] || python3 "$REPO/bench/make_pdf.py" "$in" $((mb * 1048576))
  echo "-- perf: kyso sign pdf on $mb MiB"
  perf record -q -o "$T/perf.data" "$KYSO" sign pdf "$in" --out "$T/out.perf.pdf" --home "$H" \
    "${TOKEN[@]}" --offline --level B-B >/dev/null 2>&1
  # awk, not head: with pipefail an early-closing reader would fail the script (SIGPIPE).
  echo "   by library:"
  perf report -q -i "$T/perf.data" --no-children --sort dso -g none --stdio 2>/dev/null |
    awk 'NF && n++ < 12 {printf "   %s\n", $0}'
  echo "   by symbol:"
  perf report -q -i "$T/perf.data" --no-children --sort dso,sym -g none --stdio 2>/dev/null |
    awk 'NF && n++ < 25 {printf "   %s\n", $0}'
fi
