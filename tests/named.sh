# SPDX-License-Identifier: LGPL-2.1-or-later
# A real BIND9 named for the DNS tests, sourced after tests/lib.sh: one
# primary zone on 127.0.0.1 and a free port that accepts RFC 2136 updates
# signed with one TSIG key (HMAC-SHA256), everything in a folder of $work.
# Scripts skip (exit 77) where named is not installed; tools/bootstrap.sh
# installs it.

named_bin=$(command -v named || echo /usr/sbin/named)
tsig_keygen=$(command -v tsig-keygen || echo /usr/sbin/tsig-keygen)

# start_named ZONE [RECORD...]: starts named serving ZONE with the given extra
# zone-file lines (e.g. "_volact._tcp 300 IN SRV 0 0 1688 host1"); sets
# $named_port, $named_dir, $tsig_name, $tsig_secret and $tsig_file (the key as
# `tsig-keygen -a hmac-sha256 NAME` writes it, mode 0600: what docs/dns.md has
# administrators give volactd).
start_named() {
  local zone=$1; shift
  [ -x "$named_bin" ] || { echo "SKIP: named (bind9) is not installed" >&2; exit 77; }
  named_dir="$work/named"
  mkdir -p "$named_dir"
  tsig_name="volact-update"
  tsig_file="$named_dir/tsig.key"
  (umask 077; "$tsig_keygen" -a hmac-sha256 "$tsig_name" > "$tsig_file")
  tsig_secret=$(sed -n 's/.*secret "\(.*\)";.*/\1/p' "$tsig_file")
  {
    printf '$TTL 300\n'
    printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$zone" "$zone"
    printf '@ IN NS ns.%s.\n' "$zone"
    printf 'ns IN A 127.0.0.1\n'
    for r in "$@"; do printf '%s\n' "$r"; done
  } > "$named_dir/zone.db"
  for _ in $(seq 20); do
    named_port=$(random_port)
    cat > "$named_dir/named.conf" <<CONF
options {
  directory "$named_dir";
  pid-file "$named_dir/named.pid";
  listen-on port $named_port { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
};
controls { };
include "$tsig_file";
zone "$zone" {
  type primary;
  file "$named_dir/zone.db";
  update-policy { grant $tsig_name zonesub ANY; };
};
CONF
    "$named_bin" -g -c "$named_dir/named.conf" > "$named_dir/named.log" 2>&1 &
    named_pid=$!
    for _ in $(seq 100); do
      if grep -q 'running$' "$named_dir/named.log"; then
        pids+=("$named_pid")
        return 0
      fi
      kill -0 "$named_pid" 2> /dev/null || break
      sleep 0.1
    done
    kill "$named_pid" 2> /dev/null || true
    wait "$named_pid" 2> /dev/null || true
    # Another test took the port: try another one.
    grep -q 'address in use' "$named_dir/named.log" || { cat "$named_dir/named.log" >&2; fail "named did not start"; }
  done
  fail "named found no free port"
}

# srv_records NAME: the SRV records named serves for NAME, one "PRIO WEIGHT PORT TARGET" a line.
srv_records() {
  dig +short +norecurse -p "$named_port" @127.0.0.1 SRV "$1" | sort
}
