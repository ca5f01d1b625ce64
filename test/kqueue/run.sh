#!/usr/bin/env bash
# Builds the addon with the kqueue backend against libkqueue (kqueue on Linux) in a scratch
# directory (the regular build is left alone) and runs the whole suite against it. libkqueue is
# the contributor's own install: LIBKQUEUE_DIR is its prefix (lib/libkqueue.so and
# include/kqueue/sys/event.h or include/sys/event.h).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lib="${LIBKQUEUE_DIR:-}"
if [ -z "$lib" ] || ! ls "$lib"/lib/libkqueue.so* >/dev/null 2>&1; then
  echo "test:kqueue skipped: set LIBKQUEUE_DIR to a libkqueue install prefix (see README Development)"
  exit 0
fi
if [ ! -f "$lib/include/kqueue/sys/event.h" ] && [ ! -f "$lib/include/sys/event.h" ]; then
  echo "test:kqueue: no sys/event.h under $lib/include or $lib/include/kqueue" >&2
  exit 1
fi
export LIBKQUEUE_DIR="$(cd "$lib" && pwd)"
# Not /tmp/ringloop-*: a sweep of those by another checkout must not pull the addon from under a run.
scratch="$(mktemp -d "${TMPDIR:-/tmp}/rl-kqueue-build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/native" "$root/binding.gyp" "$root/package.json" "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
(cd "$scratch" && RINGLOOP_POLLER=kqueue npx --no-install node-gyp rebuild >/dev/null)
cd "$root"
# test/poller.test.mjs checks this, so a run that silently loaded the epoll build fails.
RINGLOOP_ADDON="$scratch/build/Release/ringloop.node" \
RINGLOOP_EXPECT_POLLER=kqueue \
  npx --no-install tap "$@"
