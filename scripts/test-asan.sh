#!/usr/bin/env bash
# The tap suite against the AddressSanitizer + UndefinedBehaviorSanitizer
# build of the addon (`npm run test:asan`).  Node itself is not instrumented:
# the sanitizer runtime (clang's libclang_rt.asan-x86_64.so, or g++'s
# libasan.so when clang is missing) is LD_PRELOADed so its allocator and
# interceptors are in place before node starts, and only the addon's code is
# checked.  Leak checking is off (node's own allocations at exit would drown
# the addon's).
#
#   1. scripts/build-asan.sh (re)builds .work/asan/build/Release/salvo.node
#      when native/ or binding.gyp changed (clang++ if installed, else g++);
#   2. tap runs with SALVO_ADDON pointing at it (src/native.ts), plus
#      scripts/asan-addon-redirect.cjs for the tests that load
#      build/Release/salvo.node by path;
#   3. any report fails the run, twice over: the sanitizer aborts the process
#      that hit it (tap fails that test), and every report, from any process
#      (a test's child processes and workers too, even one whose exit status
#      nobody checks), is written under .work/asan/reports/, which must be
#      empty afterwards.  The reports are printed at the end, each with the
#      command line of the process (and its parent) that hit it.
#      (With the g++ fallback, UBSan's reports go to stderr only, not to that
#      directory: they still abort the process, but a child process whose
#      exit nobody checks could hide one.  clang has no such gap.)
#
# Arguments go to tap (e.g. a test file).  SALVO_PARSER=scalar is honoured as
# in `npm test`.  Expects dist/ to be built (npm run build:ts), as npm test does.
#
# SALVO_ASAN_RECOVER=1 (diagnostics): build with -fsanitize-recover and do not
# halt on a report, so a run lists every finding, not just each process's
# first; the run still fails if there was any.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

ADDON="$(bash scripts/build-asan.sh | tail -n 1)" || { echo "test-asan: ASan build failed" >&2; exit 1; }
[ -f "$ADDON" ] || { echo "test-asan: no ASan addon at '$ADDON'" >&2; exit 1; }
[ -f dist/native.js ] || { echo "test-asan: dist/ is not built (npm run build:ts)" >&2; exit 1; }

# The runtime matching the compiler the addon was built with (build-asan.sh).
LIBASAN="$(cat "$ROOT/.work/asan/preload" 2>/dev/null || true)"
[ -f "$LIBASAN" ] || { echo "test-asan: sanitizer runtime '$LIBASAN' not found" >&2; exit 1; }

REPORTS="$ROOT/.work/asan/reports"
PROCS="$ROOT/.work/asan/procs"
rm -rf "$REPORTS" "$PROCS" && mkdir -p "$REPORTS" "$PROCS"

# abort_on_error: a report SIGABRTs the process, so the test cannot pass.
# verify_asan_link_order=0: node is not linked against libasan; it is preloaded.
# log_path: each process's reports go to $REPORTS/report.<pid> (not stderr).
if [ "${SALVO_ASAN_RECOVER:-0}" = 1 ]; then
  COMMON="halt_on_error=0:print_stacktrace=1:symbolize=1"
else
  COMMON="abort_on_error=1:halt_on_error=1:print_stacktrace=1:symbolize=1"
fi
# strip_path_prefix: sources are compiled from .work/asan/build (../native/x.cc).
COMMON="$COMMON:strip_path_prefix=$ROOT/.work/asan/build/../:log_path=$REPORTS/report"
export ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:$COMMON"
export UBSAN_OPTIONS="$COMMON"
export SALVO_ADDON="$ADDON" SALVO_ASAN_PROCS="$PROCS"
export LD_PRELOAD="$LIBASAN${LD_PRELOAD:+:$LD_PRELOAD}"
export NODE_OPTIONS="--require $ROOT/scripts/asan-addon-redirect.cjs${NODE_OPTIONS:+ $NODE_OPTIONS}"

echo "test-asan: addon $ADDON, LD_PRELOAD=$LIBASAN, parser ${SALVO_PARSER:-default}" >&2
start=$(date +%s)
node_modules/.bin/tap "$@"
tap_rc=$?
# Unset before anything else runs here, so only the suite's processes count.
unset LD_PRELOAD NODE_OPTIONS
echo "test-asan: tap exited $tap_rc after $(( $(date +%s) - start ))s" >&2

shopt -s nullglob
reports=("$REPORTS"/*)
if [ ${#reports[@]} -gt 0 ]; then
  echo "test-asan: ${#reports[@]} sanitizer report(s):" >&2
  for r in "${reports[@]}"; do
    pid="${r##*.}"
    what="$(sed -n 1p "$PROCS/$pid" 2>/dev/null)"
    ppid="$(sed -n 2p "$PROCS/$pid" 2>/dev/null)"
    parent="$( [ -n "$ppid" ] && sed -n 1p "$PROCS/$ppid" 2>/dev/null || true)"
    echo "==== $(basename "$r"): ${what:-process not recorded}${parent:+ (child of $ppid: $parent)}" >&2
    cat "$r" >&2
  done
  exit 1
fi
[ "$tap_rc" -eq 0 ] || exit "$tap_rc"
echo "test-asan: no sanitizer reports" >&2
