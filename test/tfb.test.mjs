// examples/tfb.ts against a real PostgreSQL (bench/lib/pg.js starts a
// throw-away one): every TechEmpower route checked the way the TFB verifier
// does (bench/lib/tfb-verify.js, the same checks npm run bench:tfb makes), then
// the database is stopped and the DB routes must answer a coded 503 while the
// process lives on. Skipped only where PostgreSQL is not installed (.ci/run
// installs it).
import t from 'tap'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import postgres from 'postgres'

const require = createRequire(import.meta.url)
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const { startPostgres, findBinaries, loadDriver, INSTALL_HINT } = require('../bench/lib/pg.js')
const { verify, get } = require('../bench/lib/tfb-verify.js')

/** Runs the example (via tsx, a devDependency) on port 0; resolves to { child, port }. */
function startExample (env) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'examples/tfb.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('example did not start in 20 s: ' + stderr)), 20000)
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on http:\/\/[^:]+:(\d+)\//.exec(out)
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]), stderr: () => stderr, banner: out }) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`example exited (${code}): ${stderr}`)) })
  })
}

function stopExample (ex) {
  if (ex.child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => { ex.child.once('exit', resolve); ex.child.kill('SIGTERM') })
}

// The CommonJS bench files get the driver (an ES module) through loadDriver: the same function.
t.equal(loadDriver(), postgres, 'loadDriver() gives the driver the ESM import gives')

if (!findBinaries()) {
  t.plan(1, `PostgreSQL is not installed (${INSTALL_HINT})`)
} else {
  t.test('examples/tfb.ts on PostgreSQL', async (t) => {
    const db = await startPostgres()
    t.teardown(() => db.stop())
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    t.teardown(() => sql.end({ timeout: 1 }))
    const ex = await startExample({ DATABASE_URL: db.url, TFB_COALESCE_TURN: '' })
    t.teardown(() => stopExample(ex))

    t.match(ex.banner, 'coalesceTurn on', 'salvo\'s coalesceTurn is on by default')
    t.same(await verify(ex.port, sql), [], 'every route passes the TFB checks')

    const plain = await get(ex.port, '/plaintext')
    t.equal(plain.body, 'Hello, World!')
    t.equal(plain.headers.server, 'salvo')
    const fortunes = await get(ex.port, '/fortunes')
    t.match(fortunes.body, '<td>11</td><td>&lt;script&gt;alert(&quot;This should not be displayed in a browser alert box.&quot;);&lt;/script&gt;</td>', 'the <script> fortune is escaped')
    t.match(fortunes.body, '<td>12</td><td>\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af</td></tr></table>', 'the Japanese fortune is last, as UTF-8')
    const one = JSON.parse((await get(ex.port, '/queries?queries=1')).body)
    const [row] = await sql`SELECT randomnumber FROM world WHERE id = ${one[0].id}`
    t.equal(one[0].randomNumber, row.randomnumber, '/queries answers what the table holds')
    const upd = JSON.parse((await get(ex.port, '/updates?queries=1')).body)
    const [stored] = await sql`SELECT randomnumber FROM world WHERE id = ${upd[0].id}`
    t.equal(stored.randomnumber, upd[0].randomNumber, '/updates wrote its answer back')
    t.equal((await get(ex.port, '/nope')).headers.server, 'salvo', 'a 404 carries Server too')

    // The database goes away: coded 503s on the DB routes, the rest works, the process lives.
    await sql.end({ timeout: 1 })
    await db.stop()
    for (const p of ['/db', '/queries?queries=3', '/fortunes', '/updates?queries=2']) {
      const r = await get(ex.port, p)
      t.equal(r.status, 503, `${p} with the database stopped: 503`)
      t.equal(JSON.parse(r.body).code, 'TFB_ERR_DB_UNAVAILABLE', `${p}: coded body`)
      t.equal(r.headers.server, 'salvo')
    }
    t.equal((await get(ex.port, '/cached-queries?count=3')).status, 200, 'the cache still answers')
    t.equal((await get(ex.port, '/plaintext')).status, 200, '/plaintext still answers')
    t.equal(ex.child.exitCode, null, 'the process is alive')
  })

  // On the database's unix socket too, as npm run bench:tfb runs it with TFB_DB_SOCKET=unix.
  t.test('TFB_COALESCE_TURN=0, PostgreSQL on its unix socket: every route passes the TFB checks', async (t) => {
    const db = await startPostgres()
    t.teardown(() => db.stop())
    const sql = postgres(db.url, { max: 1, onnotice: () => {} })
    t.teardown(() => sql.end({ timeout: 1 }))
    const ex = await startExample({ DATABASE_URL: db.unixUrl, TFB_COALESCE_TURN: '0' })
    t.teardown(() => stopExample(ex))
    t.match(ex.banner, 'coalesceTurn off', 'the example says the option is off')
    t.same(await verify(ex.port, sql), [], 'every route passes the TFB checks')
  })

  t.test('TFB_COALESCE_TURN must be 0 or 1', async (t) => {
    await t.rejects(startExample({ DATABASE_URL: '', TFB_COALESCE_TURN: 'yes' }), /TFB_COALESCE_TURN must be 0 or 1/)
  })

  t.test('without DATABASE_URL the DB routes answer 503 TFB_ERR_DB_NOT_CONFIGURED', async (t) => {
    const ex = await startExample({ DATABASE_URL: '' })
    t.teardown(() => stopExample(ex))
    const r = await get(ex.port, '/db')
    t.equal(r.status, 503)
    t.equal(JSON.parse(r.body).code, 'TFB_ERR_DB_NOT_CONFIGURED')
    t.equal((await get(ex.port, '/cached-queries')).status, 503)
    t.equal((await get(ex.port, '/json')).body, '{"message":"Hello, World!"}')
    t.equal(ex.child.exitCode, null, 'the process is alive')
  })
}
