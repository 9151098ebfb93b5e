#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates the reference license data (DEMO ONLY) and signs it with the
# committed reference authority:
#   licenses/generate.sh BUILDDIR
# BUILDDIR holds a built tools/volact-authority. The data models the seed
# product families with volact's own identifiers; see docs/license-format.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
builddir=${1:?usage: generate.sh BUILDDIR}
authority="$builddir/tools/volact-authority"

# era: family, file prefix, key group base, plugin folder, era title, edition prefix, edition title
declare -A family=([kms08]=kms08 [kmsw7]=kmsw7)
declare -A prefix=([kms08]=kms [kmsw7]=w7k)
declare -A base=([kms08]=10 [kmsw7]=20)
declare -A folder=([kms08]=kms11 [kmsw7]=kms12)
declare -A era_title=([kms08]="Vista/2008 era" [kmsw7]="Windows 7/2008 R2 era")
declare -A level_title=([1]="clients" [2]="server group A" [3]="server group B" [4]="server group C")

# editions per era and level: "id|name|type"
editions() {
  local era=$1 level=$2
  case $era:$level in
    kms08:1) echo "vista-business|Windows Vista Business|client"
             echo "vista-enterprise|Windows Vista Enterprise|client" ;;
    kms08:2) echo "server2008-web|Windows Server 2008 Web|server"
             echo "server2008-hpc|Windows Server 2008 HPC|server" ;;
    kms08:3) echo "server2008-standard|Windows Server 2008 Standard|server"
             echo "server2008-enterprise|Windows Server 2008 Enterprise|server" ;;
    kms08:4) echo "server2008-datacenter|Windows Server 2008 Datacenter|server"
             echo "server2008-itanium|Windows Server 2008 for Itanium-based Systems|server" ;;
    kmsw7:1) echo "win7-professional|Windows 7 Professional|client"
             echo "win7-enterprise|Windows 7 Enterprise|client" ;;
    kmsw7:2) echo "server2008r2-web|Windows Server 2008 R2 Web|server"
             echo "server2008r2-hpc|Windows Server 2008 R2 HPC|server" ;;
    kmsw7:3) echo "server2008r2-standard|Windows Server 2008 R2 Standard|server"
             echo "server2008r2-enterprise|Windows Server 2008 R2 Enterprise|server" ;;
    kmsw7:4) echo "server2008r2-datacenter|Windows Server 2008 R2 Datacenter|server"
             echo "server2008r2-itanium|Windows Server 2008 R2 for Itanium-based Systems|server" ;;
  esac
}

header() { # kind family id title
  cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- DEMO ONLY: volact reference license data, signed by the reference
     authority whose private key is committed (licenses/reference-authority.key).
     It models the seed's KMS product families with volact's own identifiers;
     it contains nothing of Microsoft's and activates no Microsoft product. -->
<license xmlns="urn:volact:xrm:1" kind="$1" family="$2" id="$3" version="1">
  <title>$4</title>
  <issuer name="volact reference authority (DEMO ONLY)"/>
XML
}

footer() {
  cat <<XML
  <otherInfo>
    <info name="note" value="DEMO ONLY reference data; never trust its authority in production"/>
  </otherInfo>
</license>
XML
}

grant_open() { # key group, then "resource" (left open) or "condition" (opened)
  printf '  <grant>\n    <principal keyGroup="%s"/>\n    <right name="activate"/>\n    <resource>\n' "$1"
  printf '      <application id="windows" name="Windows (modelled)"/>\n'
  [ "$2" = condition ] && printf '    </resource>\n    <condition>\n'
  return 0
}

write_level() { # era level
  local era=$1 level=$2 p=${prefix[$1]} fam=${family[$1]} group=$((base[$1] + $2))
  local dir="$here/${folder[$1]}" t="${era_title[$1]}, key group $group (${level_title[$2]})"
  local id name type
  { header pl "$fam" "$p${level}pl" "$t: product license"
    grant_open "$group" resource
    while IFS='|' read -r id name type; do
      printf '      <edition id="%s" name="%s" application="windows" type="%s"/>\n' "$id" "$name" "$type"
    done < <(editions "$era" "$level")
    printf '    </resource>\n  </grant>\n'
    footer; } > "$dir/$p${level}pl.xrm"
  { header ppd "$fam" "$p${level}ppd" "$t: product policy"
    grant_open "$group" condition
    printf '      <policy application="windows" activationInterval="120" renewalInterval="10080" validityDays="180" retentionDays="30"/>\n'
    while IFS='|' read -r id name type; do
      printf '      <minimumCount edition="%s" count="%s" virtualMachines="ignored"/>\n' "$id" \
        "$([ "$type" = client ] && echo 25 || echo 5)"
    done < <(editions "$era" "$level")
    printf '    </condition>\n  </grant>\n'
    footer; } > "$dir/$p${level}ppd.xrm"
  { header oob "$fam" "$p${level}oob" "$t: out-of-box grace"
    grant_open "$group" condition
    printf '      <outOfBoxGrace application="windows" days="30"/>\n    </condition>\n  </grant>\n'
    footer; } > "$dir/$p${level}oob.xrm"
  { header phn "$fam" "$p${level}phn" "$t: telephone activation"
    grant_open "$group" condition
    printf '      <telephoneActivation keyGroup="%s" allowed="true" contact="Call the activation centre of your vendor and read out the Installation ID (demo: volact-authority confirm IID)"/>\n' $group
    printf '    </condition>\n  </grant>\n'
    footer; } > "$dir/$p${level}phn.xrm"
}

write_cfg() { # era file
  local era=$1 fam=${family[$1]} file=$2 level group l id name type
  { header cfg "$fam" "${file%.xrm}" "${era_title[$1]}: key groups"
    printf '  <grant>\n    <resource>\n'
    for level in 1 2 3 4; do
      group=$((base[$era] + level))
      printf '      <keyGroup id="%s" name="%s-%s" title="%s, key group %s (%s)" maxHosts="6" maxActivations="10">\n' \
        $group "$fam" $level "${era_title[$era]}" $group "${level_title[$level]}"
      for l in $(seq 1 $level); do
        # A Windows 7 era key also covers the Vista/2008 era editions.
        { [ "$era" = kmsw7 ] && editions kms08 "$l"; editions "$era" "$l"; } |
          while IFS='|' read -r id name type; do
            printf '        <activates edition="%s"/>\n' "$id"
          done
      done
      printf '      </keyGroup>\n'
    done
    printf '    </resource>\n  </grant>\n'
    footer; } > "$here/${folder[$era]}/$file"
}

for era in kms08 kmsw7; do
  mkdir -p "$here/${folder[$era]}"
  for level in 1 2 3 4; do write_level "$era" "$level"; done
done
write_cfg kms08 kms08cfg.xrm
write_cfg kmsw7 kmsw7cfg.xrm

# Sign with the DEMO ONLY reference authority.
signdir=$(mktemp -d)
trap 'rm -rf "$signdir"' EXIT
cp "$here/reference-authority.key" "$signdir/authority.key"
cp "$here/reference-authority.pem" "$signdir/authority.pem"
chmod 600 "$signdir/authority.key"
"$authority" --dir "$signdir" sign "$here"/kms11/*.xrm "$here"/kms12/*.xrm
"$authority" --dir "$signdir" verify "$here"/kms11/*.xrm "$here"/kms12/*.xrm
