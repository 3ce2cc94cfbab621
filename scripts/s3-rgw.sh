#!/usr/bin/env bash
# A throwaway S3 server for the integration tests: Ceph radosgw (Debian 12 packages, Ceph 16 "pacific") on a
# single-node cluster of 1 mon + 1 OSD with the in-RAM memstore backend. cephx off, loopback only, no systemd, no mgr.
# Everything lives in DIR and in RAM; `stop` kills the three daemons and removes DIR.
#
#   bash scripts/s3-rgw.sh install          # apt-get install the packages (root or sudo; ~60 MB, ~30 s),
#                                           # through scripts/test-tools.mjs
#   eval "$(bash scripts/s3-rgw.sh start [DIR])"
#                                           # ~11 s; prints one line:
#                                           # export S3_ENDPOINT=... S3_ACCESS_KEY=... S3_SECRET_KEY=... S3_RGW_DIR=...
#   bash scripts/s3-rgw.sh stop [DIR]
#
# Environment: S3_ACCESS_KEY / S3_SECRET_KEY (default TESTKEY / TESTSECRET), S3_RGW_PORT and S3_RGW_MON_PORT (default:
# free ports), S3_RGW_MEM_BYTES (memstore cap, default 4 GiB), S3_RGW_STORAGE_CLASSES (extra classes the zone accepts).
# Several instances can run side by side, each with its own DIR and ports.
# Adapted from /work/shared/reference/s3-test-server.md, which explains each pitfall the config works around.
set -euo pipefail
CMD=${1:-start}
DIR=${2:-${S3_RGW_DIR:-/tmp/s3-rgw}}
ACCESS_KEY=${S3_ACCESS_KEY:-TESTKEY}
SECRET_KEY=${S3_SECRET_KEY:-TESTSECRET}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

have_binaries() {
  command -v radosgw >/dev/null && command -v ceph-osd >/dev/null && command -v ceph-mon >/dev/null &&
    command -v radosgw-admin >/dev/null && command -v ceph >/dev/null
}

case "$CMD" in
install)
  # The package list and the apt-get steps live in scripts/test-tools.mjs (shared with the tests, CI and the bench).
  exec node "$(dirname "$0")/test-tools.mjs" install s3
  ;;

start)
  have_binaries || { echo "radosgw/ceph-mon/ceph-osd not found: run 'bash scripts/s3-rgw.sh install'" >&2; exit 3; }
  RGW_PORT=${S3_RGW_PORT:-$(free_port)}
  MON_PORT=${S3_RGW_MON_PORT:-$(free_port)}
  rm -rf "$DIR"
  mkdir -p "$DIR"/{mon,osd,run,log,rgw}
  FSID=$(cat /proc/sys/kernel/random/uuid)
  cat >"$DIR/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
[mon.a]
mon data = $DIR/mon
[osd.0]
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = ${S3_RGW_MEM_BYTES:-4294967296}
# with auth=none the OSD races its first mon command against the monmap ("wrong fsid"): skip those commands
osd class update on start = false
osd crush update on start = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $DIR/rgw
rgw enable ops log = false
# SSE-KMS for the tests, with Ceph's built-in test key store (never for real data): key id bucketjobs-test-key.
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = bucketjobs-test-key=YnVja2V0am9icy10ZXN0LWtleS0zMi1ieXRlcyEhISE=
rgw crypt require ssl = false
CONF
  export CEPH_CONF="$DIR/ceph.conf"
  # The daemons detach; if any step fails, kill what was started so nothing is left running.
  trap 'status=$?; [ $status = 0 ] || { echo "s3-rgw: start failed; logs in $DIR/log" >&2; "$0" stop "$DIR" --keep-logs; }' EXIT
  # Every cluster command gets a deadline: a mon that never answers must fail the start, not hang it.
  T="timeout 60"
  $T ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  $T monmaptool --create --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$DIR/monmap" >/dev/null
  $T ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
  $T ceph-mon -i a
  OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
  OSD_ID=$($T ceph osd create "$OSD_UUID")
  $T ceph osd crush add "osd.$OSD_ID" 1 root=default >/dev/null 2>&1
  $T ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/mkfs.log" 2>&1
  $T ceph-osd -i "$OSD_ID" 2>>"$DIR/log/osd-stderr.log"
  # Realm, zonegroup, zone, extra storage classes and the user exist before radosgw starts, so it needs no restart.
  $T radosgw-admin realm create --rgw-realm=default --default >/dev/null
  $T radosgw-admin zonegroup create --rgw-zonegroup=default --master --default >/dev/null
  $T radosgw-admin zone create --rgw-zonegroup=default --rgw-zone=default --master --default >/dev/null
  for SC in ${S3_RGW_STORAGE_CLASSES:-STANDARD_IA ONEZONE_IA INTELLIGENT_TIERING GLACIER GLACIER_IR DEEP_ARCHIVE REDUCED_REDUNDANCY}; do
    $T radosgw-admin zonegroup placement add --rgw-zonegroup default --placement-id default-placement \
      --storage-class "$SC" >/dev/null
    $T radosgw-admin zone placement add --rgw-zone default --placement-id default-placement \
      --storage-class "$SC" --data-pool default.rgw.buckets.data >/dev/null
  done
  $T radosgw-admin period update --commit >/dev/null
  $T radosgw-admin user create --uid=test --display-name=test --access-key="$ACCESS_KEY" \
    --secret-key="$SECRET_KEY" >/dev/null
  $T radosgw -n client.rgw
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break
    sleep 0.1
  done
  curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" || { echo "radosgw did not come up" >&2; exit 1; }
  echo "export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT S3_ACCESS_KEY=$ACCESS_KEY S3_SECRET_KEY=$SECRET_KEY S3_RGW_DIR=$DIR"
  ;;

stop)
  # Only the daemons of this DIR, by the pids they wrote. All state is throwaway (memstore), so SIGKILL is fine.
  for n in client.rgw osd.0 mon.a; do
    f="$DIR/run/$n.pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do # gone, or a zombie waiting for init to reap it
      st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
      { [ -z "$st" ] || [ "$st" = Z ]; } && break
      sleep 0.1
    done
  done
  [ "${3:-}" = --keep-logs ] || rm -rf "$DIR"
  ;;

*)
  echo "usage: $0 install|start|stop [DIR]" >&2
  exit 2
  ;;
esac
