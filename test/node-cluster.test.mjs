// Processes, not only threads: a node:cluster primary forks 2 worker
// processes, each binding the same port itself with listen({ reusePort: true })
// (test/fixtures/node-cluster-app.cjs).  2,000 new connections, one request
// each, 50 at a time: the kernel's SO_REUSEPORT hash spreads them, and each
// worker (its answer is its pid) must serve at least a quarter.  And a plain
// `node app.js` started twice on one port with reusePort: the second starts.
import t from 'tap'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { getOnce, withTimeout } from './helpers/raw-client.mjs'

const FIXTURE = fileURLToPath(new URL('./fixtures/node-cluster-app.cjs', import.meta.url))
const REQUESTS = 2000
const CONCURRENCY = 50

/** Forks the fixture; resolves its first IPC message, and gives a close() that waits for its exit. */
async function start (t, env) {
  const child = fork(FIXTURE, [], { env: { ...process.env, ...env } })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) { child.send('close'); await withTimeout(exited, 10_000, 'fixture exit').catch(() => child.kill('SIGKILL')) }
  })
  const [msg] = await withTimeout(once(child, 'message'), 60_000, 'fixture start') // 3 processes under the ASan preload on a loaded 2-core machine: 20 s was not enough once
  return { child, msg, exited }
}

t.test('node:cluster: 2 worker processes with reusePort share the port and the load', async (t) => {
  const { child, msg, exited } = await start(t, { WORKERS: '2' })
  t.notOk(msg.error, `both workers listen${msg.error ? `: ${msg.error}` : ''}`)
  t.equal(msg.pids.length, 2)
  t.equal(new Set(msg.pids).size, 2, 'two processes')
  const counts = new Map(msg.pids.map((p) => [String(p), 0]))
  let next = 0
  let failed = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      next++
      const r = await getOnce(msg.port, '/', 5000).catch(() => null)
      if (r && r.status === 200 && counts.has(r.body)) counts.set(r.body, counts.get(r.body) + 1)
      else failed++
    }
  }))
  t.equal(failed, 0, 'every request is answered 200 by one of the workers')
  for (const [pid, n] of counts) t.ok(n >= REQUESTS / 4, `worker ${pid} served ${n} of ${REQUESTS} (at least 25%)`)
  child.send('close')
  const [code] = await withTimeout(exited, 10_000, 'primary exit')
  t.equal(code, 0, 'the primary stops its workers and exits 0')
})

t.test('`node app.js` twice on one port with reusePort: the second listens too', async (t) => {
  const a = await start(t, { STANDALONE: '1', PORT: '0' })
  t.notOk(a.msg.error)
  const b = await start(t, { STANDALONE: '1', PORT: String(a.msg.port) })
  t.same(b.msg.error, undefined, 'no EADDRINUSE for the second process')
  t.equal(b.msg.port, a.msg.port)
})
