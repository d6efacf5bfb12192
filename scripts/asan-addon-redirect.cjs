'use strict';
/*
 * Preloaded (NODE_OPTIONS=--require) by scripts/test-asan.sh only.
 *
 * src/native.ts honours SALVO_ADDON, but a few tests load the addon straight
 * from build/Release/salvo.node (parser, conformance, differential).  So that
 * those run against the sanitized build too, any dlopen of the default addon
 * path is sent to $SALVO_ADDON instead.  Nothing else is touched; without
 * SALVO_ADDON this file does nothing.
 *
 * With SALVO_ASAN_PROCS set (a directory), it also writes <dir>/<pid> holding
 * the process's command line and its parent's pid, so that test-asan.sh can
 * say which test (or which test's child process) a sanitizer report, named
 * report.<pid>, came from.
 */
const path = require('node:path');

const procs = process.env.SALVO_ASAN_PROCS;
if (procs) {
  try {
    const { isMainThread } = require('node:worker_threads');
    if (isMainThread) {
      // tap's own --import loaders are left out: the test file is what tells.
      const exec = process.execArgv.filter((a) => !a.startsWith('--import=') && a !== '--enable-source-maps');
      const argv = ['node', ...exec, ...process.argv.slice(1)].join(' ');
      require('node:fs').writeFileSync(path.join(procs, String(process.pid)), `${argv.slice(0, 300)}\n${process.ppid}\n`);
    }
  } catch { /* labels only: never fail the process for them */ }
}

const target = process.env.SALVO_ADDON;
if (target && path.isAbsolute(target)) {
  const fs = require('node:fs');
  const real = (p) => { try { return fs.realpathSync(p); } catch { return path.resolve(p); } };
  const original = real(path.join(__dirname, '..', 'build', 'Release', 'salvo.node'));
  const dlopen = process.dlopen;
  process.dlopen = function (module, filename, ...rest) {
    if (typeof filename === 'string' && real(filename) === original) filename = target;
    return dlopen.call(this, module, filename, ...rest);
  };
}
