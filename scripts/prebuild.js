#!/usr/bin/env node
// Builds the prebuilt addon that the published package carries:
// prebuilds/<platform>-<arch>/salvo.<libc>.node (`npm run build:prebuild`,
// run by `prepack`; `postpack` removes it again).  One N-API binary
// (binding.gyp defines NAPI_VERSION=8) loads in every Node >= 20, so one
// build per platform is enough; node-gyp-build (the package's install
// script and src/native.ts) picks it, and builds from source only when none
// matches.
//
// Why a staging copy (.work/prebuild) instead of prebuildify in the repo:
// prebuildify runs `node-gyp rebuild` in its cwd and then *moves*
// build/Release/salvo.node into prebuilds/, which would delete the
// developer's own build (and the tests that dlopen build/Release/salvo.node
// by path would fail, or race with it mid-rebuild).  The copy has only what
// the build reads (binding.gyp, native/*.cc, native/*.h); node-addon-api and
// node-gyp are still found by walking up to this package's node_modules.
//
// Tags: `--napi` (one binary for all Node versions), `--strip` (the symbol
// table out: 278 KB instead of 304 KB), `--tag-libc` (named salvo.glibc.node, so
// that node-gyp-build does not offer a glibc binary on musl/Alpine, where it
// would fail to load: there the install builds from source instead).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const stage = path.join(root, '.work', 'prebuild');
const out = path.join(root, 'prebuilds');

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(path.join(stage, 'native'), { recursive: true });
fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(stage, 'binding.gyp'));
for (const f of fs.readdirSync(path.join(root, 'native'))) {
  if (/\.(cc|h)$/.test(f)) fs.copyFileSync(path.join(root, 'native', f), path.join(stage, 'native', f));
}
// Only this build ships: no binary left over from an older run.
fs.rmSync(out, { recursive: true, force: true });

// --target: the running Node, whose headers are here.  prebuildify's own
// default for --napi is the newest Node it knows, whose headers node-gyp would
// download; the binary is the same N-API one either way (NAPI_VERSION=8).
// nodedir: npm passes its config (e.g. Debian's nodedir=/usr) to scripts as
// npm_config_nodedir; run by hand, ask npm, as scripts/build-asan.sh does.
const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const q = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' });
  const dir = (q.stdout || '').trim();
  if (q.status === 0 && dir && dir !== 'undefined' && dir !== 'null') env.npm_config_nodedir = dir;
}
const bin = require.resolve('prebuildify/bin.js');
const args = [bin, '--name', 'salvo', '--napi', '--strip', '--tag-libc', '--target', process.versions.node, '--cwd', stage, '--out', root];
// node-gyp's log is long: shown only when the build fails.
const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
if (r.status !== 0) {
  process.stderr.write(`${r.stdout || ''}${r.stderr || ''}`);
  console.error(`prebuild: prebuildify failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}${r.error ? `, ${r.error.message}` : ''})`);
  process.exit(1);
}
const made = fs.readdirSync(out).flatMap((d) => fs.readdirSync(path.join(out, d)).map((f) => `prebuilds/${d}/${f}`));
if (made.length === 0) {
  console.error('prebuild: prebuildify made no binary');
  process.exit(1);
}
fs.rmSync(stage, { recursive: true, force: true });
console.error(`prebuild: ${made.join(', ')}`);
