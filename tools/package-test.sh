#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages as an administrator gets them (README "Installing"):
# builds them from the release tarball plus debian/ (source format 3.0
# (quilt)), runs lintian, installs them, checks the volact user, the state
# folder and the conffiles, starts the installed volactd as user volact (no
# systemd here) with the installed configuration plus a test trust file,
# runs volactctl dli as a member of group volact, then purges every package
# and checks that only the volact user and group are left (Debian policy
# keeps system users).
#
# Not part of `make check`: it takes minutes and installs into the system.
# Runs as root; .ci/run calls it after `make distcheck`, whose tarball it
# reuses (else it runs `make dist` in a configured tree). The test suite is
# not run again inside the package build (DEB_BUILD_OPTIONS=nocheck): CI has
# just run it, twice, on the same tarball.
#   tools/package-test.sh [TARBALL]
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
begin=$(date +%s)
passed=0
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "ok $passed - $*"; }
[ "$(id -u)" -eq 0 ] || fail "needs root: it installs and purges packages"

packages=(volactd volact-authority volact-client libvolact0 libvolact-dev volact-doc)
tester=volact-pkgtest
user_existed=false
getent passwd volact > /dev/null && user_existed=true
work=$(mktemp -d "${TMPDIR:-/tmp}/volact-pkg.XXXXXX")
host_pid=
cleanup() {
  [ -z "$host_pid" ] || { kill "$host_pid" 2> /dev/null || true; wait "$host_pid" 2> /dev/null || true; }
  userdel "$tester" 2> /dev/null || true
  dpkg --purge "${packages[@]}" > /dev/null 2>&1 || true
  # Leave the machine as found: the user is kept by the purge (policy), not by us.
  if ! $user_existed && getent passwd volact > /dev/null; then
    userdel volact 2> /dev/null || true
    groupdel volact 2> /dev/null || true
  fi
  rm -rf "$work" /run/volact
}
trap cleanup EXIT

# ---- build ------------------------------------------------------------------------------------
version=$(sed -n 's/^AC_INIT(\[volact\], \[\([^]]*\)\].*/\1/p' configure.ac)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
[ "${deb_version%-*}" = "$version" ] || fail "debian/changelog $deb_version is not configure.ac's $version"
if [ "${1:-}" = --debs ]; then
  cp "$2"/*.deb "$2"/*.changes "$work/"
  cp "$2"/*.dsc "$2"/*.debian.tar.* "$2"/*.orig.tar.* "$work/" 2> /dev/null || true
  ok "reusing the packages built in $2"
else
  tarball=${1:-$src/volact-$version.tar.xz}
  if [ ! -f "$tarball" ]; then
    [ -f Makefile ] || fail "no $tarball and no configured tree to run make dist in"
    make dist > "$work/dist.log" 2>&1 || { tail -20 "$work/dist.log"; fail "make dist"; }
  fi
  # debian/ is not in the release tarball: the source package is the upstream
  # tarball as released (the .orig) plus a separate debian tarball, as 3.0 (quilt) wants.
  cp "$tarball" "$work/volact_$version.orig.tar.xz"
  mkdir "$work/volact-$version"
  tar -xf "$tarball" -C "$work/volact-$version" --strip-components=1
  cp -a debian "$work/volact-$version/"
  (cd "$work" && dpkg-source -b "volact-$version" > source.log 2>&1) \
    || { cat "$work/source.log"; fail "dpkg-source -b"; }
  ok "source package $(cd "$work" && ls ./*.dsc) (3.0 (quilt) from the release tarball)"
  (cd "$work/volact-$version" \
    && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
    > "$work/build.log" 2>&1 || { tail -60 "$work/build.log"; fail "dpkg-buildpackage"; }
  ok "dpkg-buildpackage -us -uc -b built them in $(($(date +%s) - begin)) s"
  if [ -n "${PACKAGE_OUT:-}" ]; then
    mkdir -p "$PACKAGE_OUT"
    cp "$work"/*.deb "$work"/*.changes "$work"/*.dsc "$work"/*.tar.* "$PACKAGE_OUT/"
  fi
fi
debs=()
for p in "${packages[@]}"; do
  f=$(ls "$work/${p}_${deb_version}_"*.deb 2> /dev/null || true)
  [ -n "$f" ] || fail "no package $p was built"
  debs+=("$f")
done

# ---- lintian ----------------------------------------------------------------------------------
# initial-upload-closes-no-bugs: these packages are not uploaded to Debian, so
# there is no ITP bug for the first changelog entry to close.
lintian --info --display-info --pedantic --suppress-tags initial-upload-closes-no-bugs \
  "$work"/*.changes $(ls "$work"/*.dsc 2> /dev/null) > "$work/lintian.log" 2>&1 || true
echo "lintian:"
grep -E '^[EWIP]:' "$work/lintian.log" | grep -v '^N:' | sed 's/^/  /' || echo "  (nothing)"
if grep -q '^E:' "$work/lintian.log"; then fail "lintian reports errors"; fi
if grep -q '^W:' "$work/lintian.log"; then fail "lintian reports warnings"; fi
ok "lintian: no error, no warning"

# ---- install ----------------------------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" \
  > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install ./*.deb"; }
ok "installed with apt-get install ./*.deb"
getent passwd volact > /dev/null || fail "no user volact"
getent group volact > /dev/null || fail "no group volact"
[ "$(id -gn volact)" = volact ] || fail "volact's group is $(id -gn volact)"
[ "$(getent passwd volact | cut -d: -f7)" = /usr/sbin/nologin ] || fail "volact has a login shell"
ok "system user and group volact, no login shell"
[ "$(stat -c '%a %U:%G' /var/lib/volact)" = "700 volact:volact" ] \
  || fail "/var/lib/volact is $(stat -c '%a %U:%G' /var/lib/volact)"
ok "/var/lib/volact is 0700 volact:volact"
dpkg-query -W -f='${Conffiles}' volactd | grep -q '^ /etc/volact/volactd.conf ' \
  || fail "/etc/volact/volactd.conf is not a conffile"
dpkg-query -W -f='${Conffiles}' volact-client | grep -q '^ /etc/volact/client.conf ' \
  || fail "/etc/volact/client.conf is not a conffile"
grep -q '^admin-group = volact$' /etc/volact/volactd.conf || fail "admin-group is not volact"
ok "conffiles /etc/volact/volactd.conf and client.conf; admin-group = volact"

# ---- the installed host -----------------------------------------------------------------------
# As installed it trusts nobody, the demo authority least of all: it refuses to start.
rc=0
runuser -u volact -- timeout 20 /usr/sbin/volactd --config /etc/volact/volactd.conf --foreground \
  > "$work/notrust.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "volactd with the installed configuration: exit $rc"
grep -q 'trust is not set' "$work/notrust.log" && grep -q 'volact-authority --dir DIR init' "$work/notrust.log" \
  && grep -q 'vendor' "$work/notrust.log" || { cat "$work/notrust.log"; fail "the refusal does not say how"; }
ok "the installed configuration refuses to start: $(grep -o 'trust is not set.*' "$work/notrust.log" | cut -c1-60)..."

# A test authority, as an administrator or vendor makes one. The installed
# license data is signed by the DEMO ONLY reference authority, which this host
# does not trust: the authority signs a copy, as a vendor signs its own data.
chmod 0755 "$work"
volact-authority --dir "$work/authority" init > /dev/null
install -m 0644 "$work/authority/authority.pem" "$work/trust.pem"
cp -r /usr/share/volact/licenses "$work/licenses"
volact-authority --dir "$work/authority" sign "$work"/licenses/*/*.xrm > "$work/sign.log" 2>&1 \
  || { cat "$work/sign.log"; fail "volact-authority sign"; }
chmod -R a+rX "$work/licenses"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|^#trust = .*|trust = $work/trust.pem|" -e "s|^#port = .*|port = $port|" \
  -e "s|^#listen = .*|listen = 127.0.0.1|" -e "s|^#license-dir = .*|license-dir = $work/licenses|" \
  /etc/volact/volactd.conf > "$work/volactd.conf"
chmod 0644 "$work/volactd.conf"
# What RuntimeDirectory=volact does under systemd.
install -d -m 0755 -o volact -g volact /run/volact
# setpriv execs volactd itself (runuser would stay as its parent): $! is volactd.
setpriv --reuid=volact --regid=volact --init-groups -- \
  /usr/sbin/volactd --config "$work/volactd.conf" --foreground > "$work/volactd.log" 2>&1 &
host_pid=$!
for _ in $(seq 100); do
  [ -S /run/volact/admin.sock ] && break
  kill -0 "$host_pid" 2> /dev/null || break
  sleep 0.1
done
[ -S /run/volact/admin.sock ] || { tail -c 3000 "$work/volactd.log"; fail "the installed volactd did not start"; }
[ "$(ps -o user= -p "$host_pid")" = volact ] || fail "volactd does not run as volact"
[ "$(stat -c '%a %U:%G' /run/volact/admin.sock)" = "660 volact:volact" ] \
  || fail "admin socket is $(stat -c '%a %U:%G' /run/volact/admin.sock)"
ok "volactd runs as volact; /run/volact/admin.sock is 0660 volact:volact"

useradd --system --no-create-home --shell /usr/sbin/nologin -G volact "$tester"
runuser -u "$tester" -- volactctl dli > "$work/dli.txt" 2>&1 || { cat "$work/dli.txt"; fail "volactctl dli"; }
grep -q "Listening on Port: $port" "$work/dli.txt" || { cat "$work/dli.txt"; fail "dli: no port $port"; }
ok "volactctl dli as a member of group volact: $(grep -c . "$work/dli.txt") lines, port $port"
rc=0
runuser -u nobody -- volactctl dli > "$work/nobody.txt" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a user outside group volact administered the host"
ok "a user outside group volact is refused"
kill "$host_pid"
wait "$host_pid" || fail "volactd did not exit cleanly on SIGTERM"
host_pid=
[ -n "$(ls -A /var/lib/volact)" ] || fail "volactd wrote no state in /var/lib/volact"
ok "volactd stopped cleanly; its state is in /var/lib/volact"

# ---- the installed client ---------------------------------------------------------------------
out=$(volact-client --config /etc/volact/client.conf activate --if-due) || fail "shipped client.conf: $out"
echo "$out" | grep -q 'no edition is configured' || fail "shipped client.conf: $out"
ok "the shipped client.conf activates nothing and exits 0"
for u in volactd.service volactd.socket volact-client.service volact-client.timer; do
  [ -f "/lib/systemd/system/$u" ] || fail "$u not installed"
done
if command -v systemd-analyze > /dev/null; then
  for u in volactd.service volact-client.service; do
    score=$(systemd-analyze security --offline=true --no-pager "/lib/systemd/system/$u" 2>&1 \
      | sed -n 's/.*Overall exposure level for .*: //p' || true)
    echo "systemd-analyze security $u: ${score:-not available here}"
  done
fi

# ---- purge ------------------------------------------------------------------------------------
dpkg -L "${packages[@]}" | sort -u > "$work/files.txt"
dpkg --purge "${packages[@]}" > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
for p in "${packages[@]}"; do
  ! dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q installed || fail "$p still installed"
done
left=()
while read -r f; do
  # Folders shared with other packages (/usr/bin, /etc) stay; ours must not.
  if [ -d "$f" ]; then
    [[ $f != *volact* ]] || left+=("$f")
  elif [ -e "$f" ] || [ -L "$f" ]; then
    left+=("$f")
  fi
done < "$work/files.txt"
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
[ ! -e /etc/volact ] || fail "/etc/volact is left after purge: $(ls -A /etc/volact)"
[ ! -e /var/lib/volact ] || fail "/var/lib/volact is left after purge"
# Enablement links (deb-systemd-helper) go with the purge too.
stale=$(find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
  -name '*volact*' 2> /dev/null || true)
[ -z "$stale" ] || fail "left after purge: $stale"
ok "purged: none of the $(wc -l < "$work/files.txt") packaged paths, /etc/volact or /var/lib/volact left"
getent passwd volact > /dev/null || fail "the purge removed the system user volact"
ok "the volact user and group are kept (Debian policy: system users stay)"

echo "package-test: took $(($(date +%s) - begin)) s"
echo "package-test: $passed passed, 0 failed"
