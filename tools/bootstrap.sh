#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One command for a new Debian 12 machine: installs what is missing, builds,
# then runs the demo or the whole test suite.
#   tools/bootstrap.sh demo    build and run the live demo
#   tools/bootstrap.sh check   build and pass every test (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-check}

packages=(build-essential autoconf automake libtool libltdl-dev pkg-config
  libglib2.0-dev libxml2-dev libxmlsec1-dev xmlsec1 libssl-dev openssl
  libsqlite3-dev libcmocka-dev faketime gcovr libldns-dev bind9 bind9-dnsutils
  libsoup-3.0-dev glib-networking curl chromium chromium-driver python3-selenium fonts-dejavu-core)
packages+=(prometheus python3-prometheus-client) # tests/test-metrics: promtool, the Python parser
packages+=(clang libclang-rt-14-dev) # fuzz/: libFuzzer targets (.ci/run, make fuzz)
packages+=(postgresql libpq-dev) # core/store/: libpq; tests/pg-store.sh runs a real server
packages+=(debhelper dpkg-dev fakeroot lintian systemd) # tools/package-test.sh (.ci/run)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # The tests start their own PostgreSQL servers (tests/lib.sh start_postgres): the package's
  # system-wide "main" cluster would only take memory and port 5432.
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $sudo mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/volact-tests.conf > /dev/null
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --enable-silent-rules
make -j"$(nproc)"

case $what in
  demo) exec make demo ;;
  check) make -j"$(nproc)" check || { cat tests/*.log 2>/dev/null | tail -200; exit 1; } ;;
  distcheck) make -j"$(nproc)" distcheck ;;
  *) echo "usage: tools/bootstrap.sh demo|check|distcheck" >&2; exit 2 ;;
esac
