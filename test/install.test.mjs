// Installing the packed package on a machine without a compiler: `npm pack`
// (its prepack builds the N-API prebuild), then `npm install <tarball>` into
// an empty project with a PATH that holds only node, npm and sh (no gcc, g++,
// cc, make or python3) and --prefer-offline: the dependencies' tarballs are in npm's cache after
// `npm ci`, but not their registry documents (npm ci reads the lockfile),
// so a plain --offline fails with ENOTCACHED; this fetches only those.  The install must succeed without building (there is
// nothing to build with), the package must have no build/ (so the addon came
// from prebuilds/), and it must serve a request on a real socket.  Without
// the prebuild, require('salvo') must throw SALVO_ERR_ADDON_LOAD saying what
// to install.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { copyPackage, npmPack, plainEnv } from './helpers/pack.mjs'

t.setTimeout(240_000)

/** A PATH dir with only node, npm and sh in it. */
function barePath (dir) {
  const bin = path.join(dir, 'bin')
  mkdirSync(bin)
  const which = (name) => execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim()
  for (const name of ['node', 'npm', 'sh']) symlinkSync(which(name), path.join(bin, name))
  return bin
}

/**
 * The environment less npm's own variables (set when the suite runs under
 * npm test) and the ASan run's: the installed package must load its own addon.
 */
function cleanEnv (PATH) {
  const env = Object.fromEntries(Object.entries(plainEnv()).filter(([k]) => !/^npm_/i.test(k)))
  return { ...env, PATH }
}

// Starts an app on port 0, answers one request over a real socket, exits.
const SERVE = `
const { App } = require('salvo');
const http = require('node:http');
new App().get('/', () => 'installed').listen({ port: 0, host: '127.0.0.1' }).then((server) => {
  http.get({ host: '127.0.0.1', port: server.port, path: '/' }, (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => { console.log(JSON.stringify({ status: res.statusCode, body })); server.close().then(() => process.exit(0)); });
  }).on('error', (e) => { console.error(e); process.exit(1); });
});
`

t.test('npm install of the tarball with no compiler on PATH', async (t) => {
  const { dir, pkg, cleanup } = copyPackage()
  t.teardown(cleanup)
  const entry = npmPack(pkg, { destination: dir })
  t.ok(entry.files.some((f) => f.path === 'prebuilds/linux-x64/salvo.glibc.node'), 'the tarball carries the prebuild')
  const tarball = path.join(dir, entry.filename)

  const bin = barePath(dir)
  const env = cleanEnv(bin)
  for (const tool of ['gcc', 'g++', 'cc', 'c++', 'make', 'python3', 'python', 'clang']) {
    t.not(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status, 0, `${tool} is not on PATH`)
  }

  const app = path.join(dir, 'app')
  mkdirSync(app)
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  const inst = spawnSync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env, encoding: 'utf8' })
  t.equal(inst.status, 0, `npm install succeeds without a compiler${inst.status ? `: ${inst.stdout}${inst.stderr}` : ''}`)
  if (inst.status !== 0) return

  const installed = path.join(app, 'node_modules', 'salvo')
  t.notOk(existsSync(path.join(installed, 'build')), 'no build/ in the installed package: nothing was compiled')
  t.same(readdirSync(path.join(installed, 'prebuilds', 'linux-x64')), ['salvo.glibc.node'], 'the prebuild is there')

  const run = spawnSync('node', ['-e', SERVE], { cwd: app, env, encoding: 'utf8', timeout: 30_000 })
  t.equal(run.status, 0, `the app runs${run.status ? `: ${run.stderr}` : ''}`)
  t.same(JSON.parse(run.stdout.trim().split('\n').pop() || 'null'), { status: 200, body: 'installed' }, 'it serves a request')

  // No prebuild for this machine and nothing built: the error says what to do.
  rmSync(path.join(installed, 'prebuilds'), { recursive: true })
  const probe = "try { require('salvo'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }"
  const fail = spawnSync('node', ['-e', probe], { cwd: app, env, encoding: 'utf8' })
  const err = JSON.parse(fail.stdout.trim())
  t.equal(err.code, 'SALVO_ERR_ADDON_LOAD')
  t.match(err.message, /no prebuilt binary for linux-x64/, 'names the platform')
  t.match(err.message, /apt-get install -y python3 make g\+\+/, 'names the tools to install')
  t.match(err.message, /npm rebuild salvo/, 'and the command to build')

  // A prebuild that matches by name but does not load here (say, built for
  // another libc): the same code, naming the file.
  mkdirSync(path.join(installed, 'prebuilds', 'linux-x64'), { recursive: true })
  writeFileSync(path.join(installed, 'prebuilds', 'linux-x64', 'salvo.glibc.node'), 'not an ELF file')
  const bad = JSON.parse(spawnSync('node', ['-e', probe], { cwd: app, env, encoding: 'utf8' }).stdout.trim())
  t.equal(bad.code, 'SALVO_ERR_ADDON_LOAD')
  t.match(bad.message, /salvo\.glibc\.node does not load on this system/, 'names the file that does not load')
  t.match(bad.message, /apt-get install -y python3 make g\+\+/, 'and what to install to build one')
})
