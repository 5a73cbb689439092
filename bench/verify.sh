#!/usr/bin/env bash
# bench/verify.sh — `kyso verify` (issue 6) against poppler's pdfsig on the same files, and its
# throughput on one large PDF against the machine's SHA-256 speed.
#
# 1. A folder of N (default 1000) signed 1 MiB PDFs (one PDF from bench/make_pdf.py signed by
#    `kyso sign pdf` with a software key certified by a fresh deployment, copied N times):
#    `kyso verify --home H --jobs 2 --format json` over the folder, against
#    `pdfsig` run on every file, two at a time (xargs -P2): documents per second, ratio.
# 2. EU DSS's PAdES samples (../shared/testdata/dss-signatures/pades, every .pdf): the same two.
# 3. One signed 100 MiB PDF: `kyso verify` MB/s, against `openssl speed -bytes 16384 sha256`
#    (one core) as the physical limit: ratio kyso / limit (goal >= 0.5).
#
# Environment: BUILD (default <repo>/build-bench), N (1000), BIG_MB (100), KYSO_BENCH_KEEP=1.
# Prints "RESULT key value" lines for bench/run.sh.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/build-bench}
KYSO=$BUILD/kyso
N=${N:-1000}
BIG_MB=${BIG_MB:-100}
for tool in "$KYSO" pdfsig openssl python3 xargs; do
  command -v "$tool" >/dev/null 2>&1 || { echo "verify.sh: $tool not found" >&2; exit 1; }
done
T=$(mktemp -d "${KYSO_BENCH_TMP:-/tmp}/kyso-bench-verify.XXXXXX")
cleanup() { if [ -n "${KYSO_BENCH_KEEP:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi; }
trap cleanup EXIT
now() { date +%s%N; }
ms_since() { echo $((($(now) - $1) / 1000000)); }
result() { echo "RESULT $1 $2"; }
per_s() { awk -v n="$1" -v ms="$2" 'BEGIN {printf "%.1f", n * 1000 / (ms > 0 ? ms : 1)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
# timed CMD...: runs CMD, sets WALL_MS and CPU_MS (user + system of CMD and its children: on a
# shared, noisy machine CPU time is the steadier of the two).
timed() {
  local a
  a=$(now)
  /usr/bin/time -f "%U %S" -o "$T/cpu.txt" "$@" || true
  WALL_MS=$(ms_since "$a")
  CPU_MS=$(tail -n 1 "$T/cpu.txt" | awk '{printf "%d", ($1 + $2) * 1000}')  # after any "exited with" line
}

echo "== kyso verify benchmark =="
echo "cores $(nproc), load $(cut -d' ' -f1 /proc/loadavg), N $N, big ${BIG_MB} MiB"

# --- a deployment and a software signer ------------------------------------------------------
H=$T/home
"$KYSO" init --home "$H" >/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/sw.key" -subj /CN=x -out "$T/sw.csr" 2>/dev/null
"$KYSO" cert issue --home "$H" --profile individual --csr "$T/sw.csr" --name "Nguyễn Văn An" \
  --email an@dongnai.gov.vn --org "Sở Khoa học và Công nghệ" --out "$T/sw.pem" >/dev/null
printf 'bench-p12\n' >"$T/p12.pass"
openssl pkcs12 -export -inkey "$T/sw.key" -in "$T/sw.pem" -passout pass:bench-p12 -out "$T/sw.p12" 2>/dev/null
P12=(--p12 "$T/sw.p12" --p12-pass-file "$T/p12.pass")

# --- 1. a folder of N signed 1 MiB PDFs ------------------------------------------------------
python3 "$REPO/bench/make_pdf.py" "$T/one.pdf" 1048576
"$KYSO" sign pdf "$T/one.pdf" --out "$T/signed.pdf" --home "$H" "${P12[@]}" --offline >/dev/null
mkdir -p "$T/folder"
for i in $(seq "$N"); do cp "$T/signed.pdf" "$T/folder/doc$i.pdf"; done
cat "$T"/folder/*.pdf >/dev/null
timed "$KYSO" verify --home "$H" --jobs 2 --format json --out "$T/folder.json" "$T"/folder/*.pdf
kyso_ms=$WALL_MS kyso_cpu=$CPU_MS
passed=$(grep -c '"indication": "TOTAL-PASSED"' "$T/folder.json" || true)
printf '%s\n' "$T"/folder/*.pdf >"$T/list.txt"
timed sh -c "xargs -P2 -n1 pdfsig -nocert <'$T/list.txt' >'$T/pdfsig.txt' 2>&1"
pdfsig_ms=$WALL_MS pdfsig_cpu=$CPU_MS
valid=$(grep -c "Signature is Valid" "$T/pdfsig.txt" || true)
echo "-- $N signed 1 MiB PDFs: kyso verify ${kyso_ms} ms (CPU ${kyso_cpu} ms; $passed file+signature TOTAL-PASSED lines), pdfsig ${pdfsig_ms} ms (CPU ${pdfsig_cpu} ms; $valid valid)"
result verify.folder.kyso_docs_per_s "$(per_s "$N" "$kyso_ms")"
result verify.folder.pdfsig_docs_per_s "$(per_s "$N" "$pdfsig_ms")"
result verify.folder.ratio_kyso_speed_over_pdfsig "$(ratio "$pdfsig_ms" "$kyso_ms")"
result verify.folder.ratio_kyso_cpu_over_pdfsig "$(ratio "$pdfsig_cpu" "$kyso_cpu")"

# --- 2. DSS PAdES samples ---------------------------------------------------------------------
DSS=$REPO/../shared/testdata/dss-signatures/pades
if [ -d "$DSS" ]; then
  mapfile -t pdfs < <(find "$DSS" -name '*.pdf' | sort)
  cat "${pdfs[@]}" >/dev/null
  timed "$KYSO" verify --trust "$T/sw.pem" --offline --jobs 2 --format json --out "$T/dss.json" "${pdfs[@]}"
  kyso_ms=$WALL_MS kyso_cpu=$CPU_MS
  printf '%s\n' "${pdfs[@]}" >"$T/dss-list.txt"
  timed sh -c "xargs -P2 -n1 pdfsig -nocert <'$T/dss-list.txt' >/dev/null 2>&1"
  pdfsig_ms=$WALL_MS pdfsig_cpu=$CPU_MS
  echo "-- DSS PAdES samples (${#pdfs[@]} files): kyso verify ${kyso_ms} ms (CPU ${kyso_cpu} ms), pdfsig ${pdfsig_ms} ms (CPU ${pdfsig_cpu} ms)"
  result verify.dss.files "${#pdfs[@]}"
  result verify.dss.kyso_docs_per_s "$(per_s "${#pdfs[@]}" "$kyso_ms")"
  result verify.dss.pdfsig_docs_per_s "$(per_s "${#pdfs[@]}" "$pdfsig_ms")"
  result verify.dss.ratio_kyso_speed_over_pdfsig "$(ratio "$pdfsig_ms" "$kyso_ms")"
  result verify.dss.ratio_kyso_cpu_over_pdfsig "$(ratio "$pdfsig_cpu" "$kyso_cpu")"
fi

# --- 3. one large PDF -------------------------------------------------------------------------
python3 "$REPO/bench/make_pdf.py" "$T/big.pdf" $((BIG_MB * 1048576))
"$KYSO" sign pdf "$T/big.pdf" --out "$T/big-signed.pdf" --home "$H" "${P12[@]}" --offline >/dev/null
bytes=$(stat -c %s "$T/big-signed.pdf")
cat "$T/big-signed.pdf" >/dev/null
best=0
for r in 1 2 3; do
  a=$(now)
  "$KYSO" verify --home "$H" "$T/big-signed.pdf" >/dev/null
  ms=$(ms_since "$a")
  if [ "$best" = 0 ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
done
kyso_mb_s=$(awk -v b="$bytes" -v ms="$best" 'BEGIN {printf "%.0f", b / 1048576 * 1000 / ms}')
sha_mb_s=$(openssl speed -bytes 16384 -seconds 3 sha256 2>/dev/null | awk '/^sha256/ {v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1048576}')
echo "-- one signed ${BIG_MB} MiB PDF: kyso verify best of 3 ${best} ms = ${kyso_mb_s} MB/s; openssl speed sha256 (16 KiB) ${sha_mb_s} MB/s"
result verify.big.kyso_mb_per_s "$kyso_mb_s"
result verify.big.sha256_mb_per_s "$sha_mb_s"
result verify.big.ratio_over_sha256 "$(ratio "$kyso_mb_s" "$sha_mb_s")"
