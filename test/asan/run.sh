#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer in a scratch directory (the
# regular build is left alone) and runs the native-heavy tests against it. Node itself is not
# instrumented, so the ASan runtime is preloaded and leak detection (which would report Node's own
# allocations) is off; heap overflows, use-after-free and UB in the addon still abort the test.
# The quarantine (freed memory ASan holds back to catch late uses) is capped at 32 MiB instead of
# 256: the memory-bound tests read RSS, and a full quarantine is the tool's memory, not ours.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
scratch="$(mktemp -d /tmp/ringloop-asan.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/native" "$root/binding.gyp" "$root/package.json" "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
(cd "$scratch" && RINGLOOP_SANITIZE=1 npx --no-install node-gyp rebuild >/dev/null)
asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(test/disruptor.test.mjs test/ringbuf.test.mjs test/echo.test.mjs test/events.test.mjs test/stop.test.mjs test/codec.test.mjs test/codec-fuzz.test.mjs test/codec-examples.test.mjs)
fi
cd "$root"
RINGLOOP_ADDON="$scratch/build/Release/ringloop.node" \
LD_PRELOAD="$asan:$ubsan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:quarantine_size_mb=32" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  npx --no-install tap --disable-coverage "${tests[@]}"
