# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the integration scripts: a temporary folder cleaned on exit, an
# authority, and hosts on free loopback ports with test-only fingerprints.
# Source it; it sets $work and defines the functions below.

work=$(mktemp -d "${TMPDIR:-/tmp}/volact-test.XXXXXX")
pids=()
cleanup() {
  [ -z "${pg_ctl:-}" ] || { pg_signal CONT; "$pg_ctl" stop > /dev/null 2>&1; } || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

volactd="$top_builddir/core/volactd/volactd"
volactctl="$top_builddir/tools/volactctl"
authority="$top_builddir/tools/volact-authority"
client="$top_builddir/client/volact-client"

# GCC 12's LeakSanitizer faults at exit when it scans the thread-local storage of a library
# opened at run time: GnuTLS, which GIO's TLS backend opens for the HTTPS listener (before
# volactd opened libpq only for a shared store, libpq brought GnuTLS in at start). In the
# sanitizer build start_host preloads it after the sanitizer runtime (which must come first),
# so that it is loaded as at start; a test's own LD_PRELOAD (faketime) replaces this one.
san_preload=""
if san_asan=$(ldd "$volactd" 2> /dev/null | awk '/libasan/ { print $3 }') && [ -n "$san_asan" ]; then
  # awk reads to the end: exiting early would give ldconfig SIGPIPE, failing under pipefail.
  san_gnutls=$(ldconfig -p 2> /dev/null | awk '/libgnutls\.so\.30 / && !n++ { print $NF }')
  san_preload="$san_asan${san_gnutls:+ $san_gnutls}"
fi

# start_authority DIR: init DIR, serve on a free loopback port; sets $authority_url.
start_authority() {
  "$authority" --dir "$1" init > /dev/null
  "$authority" --dir "$1" serve --listen 127.0.0.1:0 > "$1.out" 2> "$1.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$1.out" && break; sleep 0.1; done
  authority_url=$(sed -n 's/^listening on //p' "$1.out")
  [ -n "$authority_url" ] || fail "the authority did not start"
}

# write_fingerprint DIR MACHINE-ID CPU: the test-only hardware fingerprint of a host.
write_fingerprint() {
  mkdir -p "$1"
  printf 'machine-id=%s\ncpu=%s\nmemory=16\nmac=02:00:00:00:00:01\ndisk=%s\n' "$2" "$3" "$1" \
    > "$1/fingerprint"
}

# random_port: a port to try for a server, 10000..31999: below Linux's default
# ephemeral range (32768-60999), so it never collides with the local port of an
# outgoing connection, or of the many in TIME-WAIT after a load test.
random_port() { echo $((10000 + RANDOM % 22000)); }

# start_host DIR TRUST [ENV=VALUE...]: volactd on a free loopback port, with
# demo-authority = true (tests sign with the reference authority, DEMO ONLY),
# authority-url=$authority_url (and $host_plugin_dir / $host_license_dir
# instead of the build's, if set); sets $port (the port it listens on) and
# $host_pid. Reuses DIR's state. $host_conf_extra, if set, is appended to the
# [host] group of its configuration; @WEBPORT@ in it becomes a free port,
# set in $web_port.
start_host() {
  local dir=$1 trust=$2; shift 2
  [ -f "$dir/fingerprint" ] || write_fingerprint "$dir" "machine-$dir" cpu
  for _ in $(seq 20); do
    port=$(random_port)
    web_port=$(random_port)
    cat > "$dir/volactd.conf" <<CONF
[host]
plugin-dir = ${host_plugin_dir:-$top_builddir/plugins}
license-dir = ${host_license_dir:-$top_srcdir/licenses}
trust = $trust
demo-authority = true
state-dir = $dir/state
admin-socket = $dir/admin.sock
listen = 127.0.0.1
port = $port
authority-url = ${authority_url:-}
${host_conf_extra:+${host_conf_extra//@WEBPORT@/$web_port}}
CONF
    rm -f "$dir/admin.sock"
    env ${san_preload:+LD_PRELOAD="$san_preload"} VOLACT_TEST_FINGERPRINT_FILE="$dir/fingerprint" "$@" \
      "$volactd" --config "$dir/volactd.conf" --foreground >> "$dir/volactd.log" 2>&1 &
    host_pid=$! host_dir=$dir
    for _ in $(seq 100); do
      if [ -S "$dir/admin.sock" ] && kill -0 "$host_pid" 2> /dev/null; then
        pids+=("$host_pid")
        # The port really bound (a saved sprt setting wins over the config).
        port=$("$volactctl" --socket "$dir/admin.sock" --json dli \
          | sed -n 's/^ *"port": \([0-9]*\).*/\1/p')
        return 0
      fi
      kill -0 "$host_pid" 2> /dev/null || break
      sleep 0.1
    done
    wait "$host_pid" 2> /dev/null || true
    grep -q "in use" "$dir/volactd.log" || { cat "$dir/volactd.log" >&2; fail "volactd did not start"; }
  done
  fail "no free port found"
}
stop_host() {
  local status=0
  kill "$host_pid"
  wait "$host_pid" || status=$?
  [ "$status" = 0 ] || { tail -40 "$host_dir/volactd.log" >&2 2> /dev/null || true
    fail "volactd did not exit cleanly on SIGTERM (status $status)"; }
}

# make_tls_cert DIR: a self-signed P-256 certificate for 127.0.0.1 and localhost,
# DIR/cert.pem, its key DIR/key.pem (mode 0600).
make_tls_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$1/key.pem" -out "$1/cert.pem" 2> /dev/null
  chmod 600 "$1/key.pem"
}

# web_conf DIR USERS: sets $host_conf_extra for an HTTPS listener on a free port
# with DIR's certificate (make_tls_cert) and the users file USERS.
web_conf() {
  host_conf_extra="web-port = @WEBPORT@
web-certificate = $1/cert.pem
web-key = $1/key.pem
web-users = $2"
}

# start_keyed_host DIR: an authority in $work/authority, a host key of group
# 24 (servers), a trust file, volactd in DIR (start_host), then ipk.
# Defines ctl (volactctl on DIR's socket).
start_keyed_host() {
  local dir=$1 key
  start_authority "$work/authority"
  key=$("$authority" --dir "$work/authority" issue-key --group 24)
  cat "$top_srcdir/licenses/reference-authority.pem" "$work/authority/authority.pem" > "$work/trust.pem"
  mkdir -p "$dir" "$work/clients"
  start_host "$dir" "$work/trust.pem"
  eval "ctl() { \"\$volactctl\" --socket \"$dir/admin.sock\" \"\$@\"; }"
  ctl ipk "$key" > /dev/null || fail "ipk"
}

# start_activated_host DIR: start_keyed_host, then ato.
start_activated_host() {
  start_keyed_host "$1"
  ctl ato > /dev/null || fail "ato"
}

# activate_server CMID-SUFFIX [--vm]: one server machine (server2008r2-standard, minimum
# count 5) asks the host on $port; prints its result code.
activate_server() {
  local cmid="00000000-0000-4000-8000-0000000000$1"; shift
  "$client" --host "127.0.0.1:$port" --trust "$work/authority/authority.pem" --json \
    --state "$work/clients/$cmid.state" activate --edition server2008r2-standard --cmid "$cmid" \
    --name "srv-$cmid.example.org" "$@" | sed -n 's/.*"result": *"\([^"]*\)".*/\1/p' | head -1
}

# faketime_preload: sets $preload to the LD_PRELOAD value that runs volactd
# under libfaketime (ASan's runtime first in a --enable-sanitizers build).
faketime_preload() {
  local lib asan
  lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
  [ -n "$lib" ] || fail "libfaketime is not installed (apt-get install faketime)"
  asan=$(ldd "$volactd" 2>/dev/null | awk '/libasan/ { print $3 }')
  preload="${asan:+$asan }$lib"
}

# start_postgres DIR: a PostgreSQL server of its own in DIR (a new folder under
# $work), for the shared-store tests (docs/store.md). Runs as `nobody` when the
# tests run as root (postgres refuses root), listens on 127.0.0.1 only, on a
# free port, its unix socket in DIR, with fsync on; the cleanup trap stops it.
# Password authentication (scram-sha-256) everywhere, no trust: a role
# `volact` owning a database `volact`, its password in a passfile (0600).
# Sets $pg_port, $pg_uri (postgresql://volact@127.0.0.1:PORT/volact, no
# password), $pg_passfile (exported as PGPASSFILE), $pg_sockdir, $pg_bin, and
# $pg_ctl, a script taking stop|start|restart; pg_psql runs psql as the
# volact role, pg_admin_psql as the superuser.
# Exits 77 (skip) only when the PostgreSQL server binaries are not installed.
start_postgres() {
  local dir=$1 bin user="" run=() pw adminpw
  bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "SKIP: the PostgreSQL server is not installed (apt-get install postgresql)"
    exit 77
  fi
  mkdir -p "$dir/data"
  if [ "$(id -u)" -eq 0 ]; then
    user=nobody
    run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env --)
    # nobody must reach DIR: $work stays unlistable, only traversable.
    chmod 0711 "$work"
    chown -R nobody:nogroup "$dir"
  fi
  chmod 0700 "$dir" "$dir/data"
  pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  adminpw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077; printf '%s\n' "$adminpw" > "$dir/admin.pw")
  [ -z "$user" ] || chown nobody:nogroup "$dir/admin.pw"
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/admin.pw" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
  rm -f "$dir/admin.pw"
  echo "include 'volact-test.conf'" >> "$dir/data/postgresql.conf"
  cat > "$dir/pg_ctl" << CTL
#!/bin/sh
exec ${run[*]} "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -m fast "\$@"
CTL
  chmod 0755 "$dir/pg_ctl"
  # Set before the first start: a server that did start is stopped by cleanup.
  pg_ctl="$dir/pg_ctl"
  for _ in $(seq 20); do
    pg_port=$(random_port)
    cat > "$dir/data/volact-test.conf" << CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 40
# tests/test-pg-store's deadlock is found in 0.2 s instead of 1 s.
deadlock_timeout = '200ms'
password_encryption = 'scram-sha-256'
CONF
    [ -z "$user" ] || chown nobody:nogroup "$dir/data/volact-test.conf"
    : > "$dir/postgres.log"
    [ -z "$user" ] || chown nobody:nogroup "$dir/postgres.log"
    "$pg_ctl" start > /dev/null 2>&1 && break
    grep -q "could not bind\|could not create any TCP/IP sockets" "$dir/postgres.log" \
      || { cat "$dir/postgres.log" >&2; fail "PostgreSQL did not start"; }
    pg_port=""
  done
  [ -n "$pg_port" ] || fail "no free port found for PostgreSQL"
  pg_sockdir=$dir
  pg_passfile="$dir/passfile"
  (umask 077
   printf '*:%s:*:volact:%s\n' "$pg_port" "$pw" > "$pg_passfile"
   printf '*:%s:*:postgres:%s\n' "$pg_port" "$adminpw" > "$dir/admin.passfile")
  export PGPASSFILE=$pg_passfile
  pg_bin=$bin
  pg_admin_psql -d postgres > /dev/null << SQL || fail "cannot create the volact role"
CREATE ROLE volact LOGIN PASSWORD '$pw';
CREATE DATABASE volact OWNER volact;
SQL
  pg_uri="postgresql://volact@127.0.0.1:$pg_port/volact"
}

# pg_admin_psql [PSQL-ARGS...]: psql as the superuser, over the unix socket (start_postgres).
pg_admin_psql() {
  PGPASSFILE="$pg_sockdir/admin.passfile" "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$pg_sockdir" -p "$pg_port" -U postgres "$@"
}

# pg_signal STOP|CONT: freezes the test server (start_postgres) or lets it run again: the
# postmaster and every process under it. A frozen server accepts connections and takes
# packets (the kernel does that) but answers nothing, as a paused machine or a server behind
# a network that drops packets.
pg_signal() {
  local pid
  pid=$(head -1 "$pg_sockdir/data/postmaster.pid" 2> /dev/null) || return 0
  [ -n "$pid" ] || return 0
  # shellcheck disable=SC2046
  kill -"$1" "$pid" $(pgrep -P "$pid") 2> /dev/null || true
}

# pg_psql [PSQL-ARGS...]: psql as the volact role on the test server (start_postgres).
pg_psql() {
  "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 "$pg_uri" "$@"
}
