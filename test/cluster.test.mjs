// cluster(): worker threads sharing a port with reusePort; spread, crash
// replacement, drain on close() with zero lost answers, reload under load.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadSalvo } from './helpers/app.mjs'
import { getOnce } from './helpers/raw-client.mjs'

const { cluster } = loadSalvo()
const get = (port, path) => getOnce(port, path, 10000)
const APP = fileURLToPath(new URL('./fixtures/cluster-app.cjs', import.meta.url))
// execArgv: []: the workers do not load tap's own loaders (a real app's workers have none).


/** `total` requests on new connections, `conc` at a time; counts answers per body. */
async function load (port, path, total, conc) {
  const seen = new Map()
  let failed = 0
  let i = 0
  const runner = async () => {
    while (i < total) {
      i++
      try {
        const r = await get(port, path)
        if (r.status !== 200) failed++
        else seen.set(r.body, (seen.get(r.body) || 0) + 1)
      } catch (e) { failed++; if (process.env.DEBUG_LOAD) console.error("load:", e.message) }
    }
  }
  await Promise.all(Array.from({ length: conc }, runner))
  return { seen, failed }
}

t.test('2 workers each serve at least 25% of 2,000 new connections', async (t) => {
  const c = await cluster(APP, { workers: 2, handleSignals: false, execArgv: [] })
  t.equal(c.workers.length, 2)
  const { seen, failed } = await load(c.port, '/worker', 2000, 16)
  t.equal(failed, 0)
  t.same([...seen.keys()].sort(), c.workers.slice().sort(), 'answered by the two workers')
  for (const [id, n] of seen) t.ok(n >= 500, `${id} served ${n} of 2000`)
  const stats = await c.stats()
  t.equal(stats.length, 2)
  for (const s of stats) {
    t.equal(s.requests, seen.get(s.id), `stats of ${s.id}: its request count`)
    t.ok(s.rss > 0 && s.heapUsed > 0, 'rss and heap reported')
  }
  await c.close()
  await t.rejects(get(c.port, '/'), 'nothing listens after close')
})

t.test('a crashed worker is replaced within 1 s while the other keeps answering', async (t) => {
  const c = await cluster(APP, { workers: 2, handleSignals: false, execArgv: [] })
  const before = c.workers.slice()
  const replaced = new Promise((resolve) => { c.onReplace = (oldId, newId, ms) => resolve({ oldId, newId, ms }) })
  // Crash whichever worker the kernel hands this connection to.
  await get(c.port, '/crash').catch(() => {})
  // Meanwhile the rest keeps answering.
  const during = await load(c.port, '/', 100, 4)
  t.equal(during.failed, 0, 'no request failed while one worker was down')
  const r = await replaced
  t.ok(before.includes(r.oldId), `the crashed one (${r.oldId}) was one of ours`)
  // The bar is 1 s from the crash (about 0.3 s on an idle machine); the suite runs
  // other test files beside this one and the ASan addon (SALVO_ADDON) loads several times
  // slower, so the test's bound leaves room: it catches a replacement that waits or never comes.
  const bound = process.env.SALVO_ADDON ? 5000 : 3000
  t.ok(r.ms < bound, `replaced by ${r.newId}, listening ${r.ms} ms after the crash (bound ${bound} ms)`)
  t.equal(c.workers.length, 2)
  const { seen } = await load(c.port, '/worker', 200, 8)
  t.ok(seen.get(r.newId) > 0, 'the replacement answers')
  t.notOk(seen.has(r.oldId), 'the crashed one is gone')
  await c.close()
})

t.test('close() drains every worker: zero lost in-flight answers', async (t) => {
  const c = await cluster(APP, { workers: 2, handleSignals: false, execArgv: [] })
  const inflight = Array.from({ length: 40 }, () => get(c.port, '/slow?ms=400'))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const closed = c.close({ timeout: 5000 })
  const answers = await Promise.allSettled(inflight)
  t.same(answers.filter((a) => a.status !== 'fulfilled' || a.value.body !== 'slow'), [], 'all 40 answered')
  await closed
  await t.rejects(get(c.port, '/'), 'no longer accepting')
})

t.test('reload() replaces workers one at a time with zero failed requests under load', async (t) => {
  const c = await cluster(APP, { workers: 2, handleSignals: false, execArgv: [] })
  const before = c.workers.slice()
  const running = load(c.port, '/worker', 1500, 8)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const after = await c.reload()
  const { seen, failed } = await running
  t.equal(failed, 0, 'no request failed during the reload')
  t.equal(after.length, 2)
  t.same(after.filter((id) => before.includes(id)), [], 'every worker replaced')
  t.ok([...seen.values()].reduce((a, b) => a + b, 0) === 1500)
  await c.close()
})
