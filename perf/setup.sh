#!/usr/bin/env bash
# Installs what the benchmark suites drive or compare against, from Debian packages:
# wrk (http, tls), redis-tools (redis-benchmark, redis-cli), redis-server (the redis peer),
# openssl (the tls suite's throwaway certificate), libssl-dev (headers and libraries for the tls
# suite's loadgen, perf/bin/echo_load_tls) and librsvg2-bin (rsvg-convert: the PNG next to each
# run's SVG chart; optional, skipped when absent).
set -euo pipefail
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v redis-server >/dev/null || need+=(redis-server)
command -v openssl >/dev/null || need+=(openssl)
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
if [ ${#need[@]} -eq 0 ]; then echo "perf/setup.sh: everything is installed"; exit 0; fi
echo "perf/setup.sh: installing ${need[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get install -y "${need[@]}" || { $SUDO apt-get update && $SUDO apt-get install -y "${need[@]}"; }
