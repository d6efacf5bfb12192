#!/usr/bin/env bash
# Builds the addon under AddressSanitizer + UndefinedBehaviorSanitizer into
# .work/asan/build/Release/salvo.node (gitignored), leaving the normal
# build/Release/salvo.node untouched.  Prints the path of the built addon on
# the last line of stdout, and writes the sanitizer runtime that node must
# LD_PRELOAD (it is not instrumented itself) to .work/asan/preload.
# Rebuilds only what changed in binding.gyp and native/*.{cc,h} (make sees
# which objects are stale); a change of compiler, flags or this script
# reconfigures and rebuilds all.
#
# Compiler: clang++ when installed (.ci/run installs it), else g++.
#   clang: one runtime, libclang_rt.asan-x86_64.so, holds both ASan and UBSan,
#          so both honour ASAN_OPTIONS (log_path: every report lands in a file).
#   g++:   libasan.so is preloaded and libubsan.so comes in as the addon's
#          dependency; two runtimes, and libubsan then ignores log_path (its
#          reports go to stderr only; they still abort the process).
# node-gyp's Makefile appends $CFLAGS/$CXXFLAGS/$LDFLAGS after binding.gyp's
# flags, so -O1 here wins over binding.gyp's -O3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$ROOT/.work/asan"
OUT="$WORK/build/Release/salvo.node"

# SALVO_ASAN_RECOVER=1 (diagnostics): reports do not stop the process, so one
# run lists every finding instead of the first per process.
if [ "${SALVO_ASAN_RECOVER:-0}" = 1 ]; then
  RECOVER="-fsanitize-recover=address,undefined"
else
  RECOVER="-fno-sanitize-recover=all"
fi
SAN_FLAGS="-fsanitize=address,undefined $RECOVER -fno-omit-frame-pointer -g -O1"
if [ -z "${CXX:-}" ]; then
  if command -v clang++ >/dev/null 2>&1 && command -v clang >/dev/null 2>&1; then
    CC=clang CXX=clang++
  else
    CC=gcc CXX=g++
  fi
fi
CC="${CC:-gcc}"
case "$("$CXX" --version 2>/dev/null | head -n 1)" in
  *clang*)
    # -shared-libsan: the addon links against the shared runtime that node
    # preloads (clang links no sanitizer runtime into a -shared object).
    LINK_FLAGS="-fsanitize=address,undefined -shared-libsan"
    RUNTIME="$("$CXX" -print-file-name=libclang_rt.asan-x86_64.so)";;
  *)
    LINK_FLAGS="-fsanitize=address,undefined"
    RUNTIME="$("$CXX" -print-file-name=libasan.so)";;
esac
RUNTIME="$(readlink -f "$RUNTIME" 2>/dev/null || echo "$RUNTIME")"
if [ ! -f "$RUNTIME" ]; then
  echo "build-asan: no sanitizer runtime for $CXX (got '$RUNTIME'): install libclang-rt-14-dev for clang, or g++ (libasan8)" >&2
  exit 1
fi
export CC CXX CFLAGS="$SAN_FLAGS" CXXFLAGS="$SAN_FLAGS" LDFLAGS="$LINK_FLAGS"

# node-gyp: the one npm runs (npm sets npm_config_node_gyp), else npm's bundled one.
GYP="${npm_config_node_gyp:-}"
if [ -z "$GYP" ]; then
  GYP="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
fi
[ -f "$GYP" ] || { echo "build-asan: node-gyp not found (tried $GYP)" >&2; exit 1; }
# npm passes its config (nodedir=/usr here: Debian's node headers) as env;
# outside npm, ask it.
NODEDIR="${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}"
GYP_ARGS=()
if [ -n "$NODEDIR" ] && [ "$NODEDIR" != "undefined" ] && [ "$NODEDIR" != "null" ]; then
  GYP_ARGS+=("--nodedir=$NODEDIR")
fi

# Mirror binding.gyp and native/ into the work dir, copying only files whose
# content changed (so make's mtime check rebuilds just those), and dropping
# files that are gone.  native/include paths resolve the same from there
# (node-addon-api is found through $ROOT/node_modules by walking up).
mkdir -p "$WORK/native"
sync_file() {  # src dst
  if ! cmp -s "$1" "$2"; then cp "$1" "$2"; fi
}
sync_file "$ROOT/binding.gyp" "$WORK/binding.gyp"
for f in "$ROOT"/native/*.cc "$ROOT"/native/*.h; do
  [ -e "$f" ] && sync_file "$f" "$WORK/native/$(basename "$f")"
done
for f in "$WORK"/native/*; do
  [ -e "$ROOT/native/$(basename "$f")" ] || rm -f "$f"
done

# Configure when there is no Makefile yet, or binding.gyp, the flags or this
# script changed since the last configure.
STAMP="$WORK/.configured"
WANT="$( { cat "$WORK/binding.gyp" "$0"; echo "$CC $CXX $SAN_FLAGS $LINK_FLAGS ${GYP_ARGS[*]:-}"; } | sha256sum | cut -d' ' -f1)"
cd "$WORK"
if [ ! -f build/Makefile ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  rm -rf build
  node "$GYP" configure "${GYP_ARGS[@]}" >&2
  echo "$WANT" > "$STAMP"
fi
JOBS="$(nproc 2>/dev/null || echo 2)"
node "$GYP" build --jobs "$JOBS" "${GYP_ARGS[@]}" >&2

# The addon must really be instrumented (a wrong flag path would silently
# build a plain one and the sanitized run would prove nothing).
if ! nm -D "$OUT" | grep '__asan_report' >/dev/null; then
  echo "build-asan: $OUT has no ASan instrumentation" >&2
  exit 1
fi
echo "$RUNTIME" > "$WORK/preload"
echo "$OUT"
