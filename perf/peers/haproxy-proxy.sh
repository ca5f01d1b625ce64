#!/usr/bin/env bash
# The HAProxy contender of the proxy suite: mode tcp, one thread, a config generated into a temp
# dir for this trial, in front of the backend given. Prints `listening <url>` once HAProxy
# accepts, stops it on SIGTERM. Usage: haproxy-proxy.sh --addr tcp://127.0.0.1:0 --backend tcp://h:p
set -euo pipefail
haproxy="${HAPROXY:-/usr/sbin/haproxy}"
backend=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend="${2#tcp://}"; shift 2 ;;
    --addr) shift 2 ;;  # always 127.0.0.1 with a free port (HAProxy cannot report a port 0 bind)
    *) echo "haproxy-proxy: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$backend" ] || { echo "haproxy-proxy: --backend tcp://host:port needed" >&2; exit 2; }
[ -x "$haproxy" ] || { echo "haproxy-proxy: $haproxy not found (apt-get install haproxy)" >&2; exit 1; }
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
dir="$(mktemp -d /tmp/ringloop-haproxy.XXXXXX)"
cat > "$dir/haproxy.cfg" <<CFG
global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend f
  bind 127.0.0.1:$port
  default_backend b
backend b
  server s1 $backend
CFG
"$haproxy" -db -f "$dir/haproxy.cfg" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$dir"; exit 0' TERM INT
for _ in $(seq 1 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "listening tcp://127.0.0.1:$port"
    break
  fi
  sleep 0.02
done
wait $pid || true
rm -rf "$dir"
