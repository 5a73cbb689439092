#!/usr/bin/env bash
# Installs what kyso needs to build, test and run, from Debian 12 packages only. Idempotent:
# when everything is present it only checks, and it runs apt-get only for what is missing.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build make pkg-config
  # libraries
  libssl-dev libsqlite3-dev libboost-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libfmt-dev libtomlplusplus-dev libp11-kit-dev libgtest-dev libgmock-dev libbenchmark-dev
  libargon2-dev libxml2-dev libqpdf-dev libharfbuzz-dev libpng-dev libpoppler-cpp-dev libicu-dev libxmlsec1-dev
  # the embedded token and the independent judges used by tests
  softhsm2 opensc openssl sqlite3 curl python3
  # signing (issue 5): fonts for the Decree 30 appearance, and the judges of PDF/XML signatures
  fonts-liberation fonts-liberation2 qpdf poppler-utils libpodofo-utils xmlsec1 libnss3-tools
  # benchmarks (wrk: HTTP load; time: CPU time of the verify benchmarks)
  wrk time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "kyso setup: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
