'use strict'
// A throw-away PostgreSQL for the TechEmpower bench and its test: finds the
// Debian binaries (/usr/lib/postgresql/*/bin), initdb's a cluster in a
// temporary directory, runs it on 127.0.0.1 (a free port; its unix socket in
// the same directory), creates and fills the TFB tables `world` (10,000 rows)
// and `fortune` (the standard 12), and removes all of it at the end: on
// stop(), on process exit, on SIGINT/SIGTERM and on an uncaught exception.
// As root, initdb and postgres run as the `postgres` system user (PostgreSQL
// refuses root), with setpriv, which execs (no extra process between us and
// the postmaster, so our signals reach it).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { freePort } = require('./spawn')

const INSTALL_HINT = 'apt-get install -y postgresql'

// The TFB fortune rows (toolset/databases/postgres/create-postgres.sql), id -> message.
const FORTUNES = [
  [1, 'fortune: No such file or directory'],
  [2, 'A computer scientist is someone who fixes things that aren\'t broken.'],
  [3, 'After enough decimal places, nobody gives a damn.'],
  [4, 'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1'],
  [5, 'A computer program does what you tell it to do, not what you want it to do.'],
  [6, 'Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen'],
  [7, 'Any program that runs right is obsolete.'],
  [8, 'A list is only as strong as its weakest link. \u2014 Donald Knuth'],
  [9, 'Feature: A bug with seniority.'],
  [10, 'Computers make very fast, very accurate mistakes.'],
  [11, '<script>alert("This should not be displayed in a browser alert box.");</script>'],
  [12, '\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af']
]

/**
 * The `postgres` driver's function.  postgres.js 4 is an ES module: CommonJS
 * gets it with require(esm), which Node has without a flag from 20.19 and
 * 22.12 (its `default` export is the function).  3.x (CommonJS, the function
 * itself) still loads, for `bench/gc-promise-probe.js --driver` against it.
 */
function loadDriver () {
  try {
    const m = require('postgres')
    return typeof m === 'function' ? m : m.default
  } catch (err) {
    if (err && err.code === 'ERR_REQUIRE_ESM') {
      throw new Error(`the postgres driver (v4) is an ES module: this needs Node 20.19 or later (this is ${process.version})`)
    }
    throw err
  }
}

/** Directory of the newest installed PostgreSQL's binaries, or null. */
function findBinaries () {
  let versions
  try { versions = fs.readdirSync('/usr/lib/postgresql') } catch { return null }
  const dirs = versions
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `/usr/lib/postgresql/${v}/bin`)
    .filter((d) => fs.existsSync(path.join(d, 'postgres')) && fs.existsSync(path.join(d, 'initdb')))
  return dirs[0] || null
}

/** The uid/gid of the `postgres` user when we are root (PostgreSQL will not run as root), else null. */
function serviceUser () {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (r.status !== 0 || g.status !== 0) throw new Error('running as root but there is no `postgres` user: ' + INSTALL_HINT)
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) }
}

/** argv run as the service user when there is one (setpriv execs: same pid). */
function asUser (user, argv) {
  return user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv] : argv
}

// PostgreSQL's own processes get the environment without a preloaded sanitizer
// runtime (npm run test:asan LD_PRELOADs one for node; initdb and postgres
// under it hang): they are not the code under test.
function cleanEnv () {
  const env = { ...process.env }
  delete env.LD_PRELOAD
  for (const k of Object.keys(env)) if (/^(ASAN|UBSAN|LSAN)_OPTIONS$/.test(k)) delete env[k]
  return env
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Everything started here, for the exit paths (one process may start several).
const live = new Set()
let hooked = false

function hookExitPaths () {
  if (hooked) return
  hooked = true
  process.once('exit', () => { for (const db of live) db.killSync() })
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const db of live) db.killSync()
      process.exit(sig === 'SIGINT' ? 130 : 143)
    })
  }
  process.once('uncaughtException', (err) => {
    for (const db of live) db.killSync()
    console.error(err)
    process.exit(1)
  })
}

/**
 * Starts a fresh PostgreSQL with the TFB tables. `prefix` is prepended to the
 * postgres argv (taskset -c 1, say). Resolves to
 * { url (127.0.0.1), unixUrl (its socket in dir), port, dir, pid, stop(),
 * killSync() }; rejects with
 * err.code 'PG_NOT_INSTALLED' when there is no PostgreSQL.
 */
async function startPostgres ({ prefix = [], log = () => {} } = {}) {
  const bin = findBinaries()
  if (!bin) {
    const err = new Error(`PostgreSQL is not installed; install it with: ${INSTALL_HINT}`)
    err.code = 'PG_NOT_INSTALLED'
    throw err
  }
  const user = serviceUser()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'salvo-pg-'))
  const data = path.join(dir, 'data')
  let child = null
  const db = {
    dir,
    killSync () {
      live.delete(db)
      if (child && child.exitCode === null && child.signalCode === null) {
        // SIGQUIT: immediate shutdown; the postmaster takes its backends with it.
        try { child.kill('SIGQUIT') } catch {}
        const until = Date.now() + 3000
        while (Date.now() < until) {
          try { process.kill(child.pid, 0) } catch { break }
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
        }
        try { child.kill('SIGKILL') } catch {}
      }
      fs.rmSync(dir, { recursive: true, force: true })
    },
    async stop () {
      live.delete(db)
      if (child && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGINT') // fast shutdown: abort sessions, then exit
        const t = setTimeout(() => child.kill('SIGKILL'), 10000)
        await gone
        clearTimeout(t)
      }
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  live.add(db)
  hookExitPaths()
  try {
    if (user) fs.chownSync(dir, user.uid, user.gid)
    fs.chmodSync(dir, 0o700)
    const init = spawnSync(asUser(user, [path.join(bin, 'initdb')])[0], asUser(user, [
      path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'
    ]).slice(1), { encoding: 'utf8', cwd: dir, env: cleanEnv() })
    if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.stdout || '').trim()}`)
    log(`pg: cluster in ${data}`)

    // A port can be taken between freePort() and the bind: try a few.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort()
      const argv = [...prefix, ...asUser(user, [
        path.join(bin, 'postgres'), '-D', data, '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
        // A benchmark database that is thrown away: no durability costs
        // (TFB's own configuration turns synchronous_commit off too).
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=300', '-c', 'shared_buffers=128MB', '-c', 'log_min_messages=warning',
        // Autovacuum looks every second, not every minute. With the default,
        // world carries 11,000-38,000 dead row versions under /updates, more
        // the longer since the last pass, so a server's result depended on
        // where its run fell in that minute (and the first minute, before
        // any pass, had the most). With 1 s it carries 2,000-5,000 throughout.
        // Driver-only /updates loop, 256 in flight, 5 s windows, 2026-12-07,
        // means of the first minute: 1,198 and 1,222 req/s with the default
        // (two runs), 1,341 with 1 s.
        '-c', 'autovacuum_naptime=1s'
      ])]
      let stderr = ''
      child = spawn(argv[0], argv.slice(1), { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
      child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-8192) })
      const ok = await ready(bin, port, dir, child, user)
      if (ok) {
        db.port = port
        db.pid = child.pid
        break
      }
      if (attempt >= 3 || !/could not (bind|create listen)/i.test(stderr)) throw new Error(`postgres did not start: ${stderr.trim()}`)
    }
    db.url = `postgres://benchmarkdbuser:benchmarkdbpass@127.0.0.1:${db.port}/hello_world`
    // The same database through its unix socket (postgres.js: a host that is a path).
    db.unixUrl = `postgres://benchmarkdbuser:benchmarkdbpass@/hello_world?host=${encodeURIComponent(dir)}&port=${db.port}`
    await fill(bin, db.port, dir, user)
    log(`pg: ${db.url} (pid ${db.pid})`)
    return db
  } catch (err) {
    db.killSync()
    throw err
  }
}

/** Waits until the server accepts queries (pg_isready), or it exits, or 20 s pass. */
async function ready (bin, port, dir, child, user) {
  const deadline = Date.now() + 20000
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false
    const r = spawnSync(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { env: cleanEnv() })
    if (r.status === 0) return true
    await sleep(100)
  }
  return false
}

function psql (bin, port, dir, user, database, sql) {
  const r = spawnSync(path.join(bin, 'psql'), [
    '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database
  ], { input: sql, encoding: 'utf8', cwd: dir, env: cleanEnv() })
  if (r.status !== 0) throw new Error(`psql failed: ${(r.stderr || '').trim()}`)
}

const quote = (s) => "'" + s.replace(/'/g, "''") + "'"

/** The TFB role, database and tables. */
async function fill (bin, port, dir, user) {
  psql(bin, port, dir, user, 'postgres',
    "CREATE ROLE benchmarkdbuser LOGIN PASSWORD 'benchmarkdbpass';\n" +
    'CREATE DATABASE hello_world OWNER benchmarkdbuser ENCODING \'UTF8\' TEMPLATE template0;\n')
  psql(bin, port, dir, user, 'hello_world', [
    'SET ROLE benchmarkdbuser;',
    'CREATE TABLE world (id integer NOT NULL PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0);',
    'INSERT INTO world (id, randomnumber) SELECT x, least(floor(random() * 10000 + 1), 10000) FROM generate_series(1, 10000) AS x;',
    'CREATE TABLE fortune (id integer NOT NULL PRIMARY KEY, message varchar(2048) NOT NULL);',
    'INSERT INTO fortune (id, message) VALUES ' + FORTUNES.map(([id, m]) => `(${id}, ${quote(m)})`).join(', ') + ';',
    'ANALYZE world; ANALYZE fortune;'
  ].join('\n'))
}

/**
 * Brings a freshly filled `world` to the layout of a table that has taken
 * /updates for a while, its rows unchanged: rewritten (VACUUM FULL) with its
 * pages 40 % full, then fillfactor back to the default, so the schema stays
 * TFB's. A freshly filled table is packed, so its first updates cannot put the
 * new row version in the old one's page; the first /updates load of a run
 * (salvo's, in round 1) then ran low for its first seconds while the rows
 * spread out (2026-12-07, driver-only loop, 256 in flight, 2 s windows, after
 * the earlier one-UPDATE-then-VACUUM step, which still left every row in a
 * full page: 928 req/s with 60 % of the row updates in-page, 1,325 with 80 %,
 * then 99-100 %, the table growing from 89 to 110 pages; the 45 packed pages
 * at 40 % are about that 110). With this step they are in-page from the first
 * (test/tfb-bench.test.mjs). `sql` is a driver instance connected as the
 * table's owner.
 */
async function precondition (sql) {
  await sql`ALTER TABLE world SET (fillfactor = 40)`
  await sql`VACUUM FULL world`
  await sql`ALTER TABLE world RESET (fillfactor)`
  await sql`ANALYZE world`
}

module.exports = { startPostgres, findBinaries, loadDriver, precondition, FORTUNES, INSTALL_HINT }
