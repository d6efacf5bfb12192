// listen({ reusePort: true }): SO_REUSEPORT lets several salvo servers, in
// worker threads or in processes, share one port and both answer; without it
// the second listen fails with SALVO_ERR_LISTEN (EADDRINUSE).
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { loadSalvo } from './helpers/app.mjs'
import { getOnce } from './helpers/raw-client.mjs'

const { App } = loadSalvo()
/** A new connection per request, so the kernel picks a listener each time. */
const get = async (port, path) => (await getOnce(port, path, 5000)).body
const FIXTURE = fileURLToPath(new URL('./fixtures/reuseport-server.cjs', import.meta.url))

function startThread (cfg) {
  const w = new Worker(FIXTURE, { workerData: cfg })
  return { first: once(w, 'message').then(([m]) => m), close: () => { w.postMessage('close'); return once(w, 'exit') } }
}
function startProcess (cfg) {
  const c = fork(FIXTURE, [], { env: { ...process.env, PORT: String(cfg.port), REUSE: cfg.reuse ? '1' : '0', NAME: cfg.name } })
  return { first: once(c, 'message').then(([m]) => m), close: () => { c.send('close'); return once(c, 'exit') } }
}


/** Which names answer `n` new connections. */
async function names (port, n) {
  const seen = new Map()
  for (let i = 0; i < n; i++) {
    const b = await get(port, '/who')
    seen.set(b, (seen.get(b) || 0) + 1)
  }
  return seen
}

for (const [kind, start] of [['worker threads', startThread], ['processes', startProcess]]) {
  t.test(`two ${kind} share a port with reusePort, both answer`, async (t) => {
    const a = start({ port: 0, reuse: true, name: 'A' })
    const { port } = await a.first
    t.ok(port > 0)
    const b = start({ port, reuse: true, name: 'B' })
    t.same(await b.first, { port }, 'the second binds the same port')
    const seen = await names(port, 200)
    t.ok(seen.get('A') > 0, `A answered ${seen.get('A')} of 200`)
    t.ok(seen.get('B') > 0, `B answered ${seen.get('B')} of 200`)
    t.equal((seen.get('A') || 0) + (seen.get('B') || 0), 200, 'every request answered by one of them')
    await Promise.all([a.close(), b.close()])
  })

  t.test(`without reusePort the second of two ${kind} fails with EADDRINUSE`, async (t) => {
    const a = start({ port: 0, reuse: false, name: 'A' })
    const { port } = await a.first
    const b = start({ port, reuse: false, name: 'B' })
    t.same(await b.first, { error: 'SALVO_ERR_LISTEN', cause: 'EADDRINUSE' })
    const seen = await names(port, 20)
    t.same([...seen], [['A', 20]], 'the first keeps the port alone')
    // one with reusePort cannot join a port bound without it either
    const c = start({ port, reuse: true, name: 'C' })
    t.same(await c.first, { error: 'SALVO_ERR_LISTEN', cause: 'EADDRINUSE' })
    await Promise.all([a.close(), b.close(), c.close()])
  })
}

t.test('reusePort must be a boolean; IPv6 works with it', async (t) => {
  await t.rejects(new App().listen({ reusePort: 'yes' }), { code: 'SALVO_ERR_INVALID_ARG' })
  const app = new App().get('/', () => 'six')
  const s1 = await app.listen({ host: '::1', port: 0, reusePort: true }).catch(() => null)
  if (!s1) return t.skip('no IPv6 loopback here')
  const s2 = await app.listen({ host: '::1', port: s1.port, reusePort: true })
  t.equal(s2.port, s1.port)
  await Promise.all([s1.close(), s2.close()])
})
