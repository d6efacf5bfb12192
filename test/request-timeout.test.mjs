// Request timeout (src/dispatcher.ts sweep): new App({ requestTimeout }) and route `timeout`:
// 503 SALVO_ERR_HANDLER_TIMEOUT, req.signal aborted with the error as reason, the handler's
// late answer dropped, pipelined order kept, route overrides app, 0 disables.
// Real sockets on 127.0.0.1 and inject().

import t from 'tap'
import { makeApp, salvo, throwsCode, until, delay } from './helpers/api.mjs'
import { RawClient } from './helpers/raw-client.mjs'

// inject() holds no handle: keep the loop alive while the sweep runs.
const keep = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keep))

t.test('options: 0 and positive integers; others are errors', async (t) => {
  const { App } = salvo()
  throwsCode(t, () => new App({ requestTimeout: -1 }), 'SALVO_ERR_INVALID_ARG', 'negative requestTimeout')
  throwsCode(t, () => new App({ requestTimeout: 1.5 }), 'SALVO_ERR_INVALID_ARG', 'fractional requestTimeout')
  t.doesNotThrow(() => new App({ requestTimeout: 0 }), '0 disables')
  const app = new App()
  throwsCode(t, () => app.get('/', { timeout: 'soon' }, () => 'x'), 'SALVO_ERR_INVALID_ARG', 'route timeout not a number')
  throwsCode(t, () => app.get('/', { timout: 10 }, () => 'x'), 'SALVO_ERR_INVALID_ARG', 'misspelt route option')
})

for (const mode of ['socket', 'inject']) {
  t.test(`503 with code, signal aborted with reason, late answer dropped [${mode}]`, async (t) => {
    const seen = {}
    let lateThrew = null
    const { request } = await makeApp(t, mode, {
      options: { requestTimeout: 60 },
      setup: (app) => {
        app.get('/never', (req) => { seen.never = req; return new Promise(() => {}) })
        app.get('/late', (req, res) => {
          seen.late = req
          setTimeout(() => {
            try { res.status(200).header('x-late', '1').send('late answer') } catch (e) { lateThrew = e }
          }, 150)
        })
        app.get('/lateReturn', async () => { await delay(150); return 'returned late' })
        app.get('/sync', () => 'sync ok')
      }
    })
    const t0 = Date.now()
    const r = await request({ url: '/never' })
    const took = Date.now() - t0
    t.equal(r.statusCode, 503)
    t.equal(r.json().code, 'SALVO_ERR_HANDLER_TIMEOUT')
    t.ok(took >= 55, `not before the timeout (${took} ms)`)
    t.ok(took < 1000, `soon after it (${took} ms)`)
    t.ok(seen.never.signal.aborted, 'req.signal aborted')
    t.equal(seen.never.signal.reason.code, 'SALVO_ERR_HANDLER_TIMEOUT', 'the reason is the timeout error')
    const r2 = await request({ url: '/late' })
    t.equal(r2.statusCode, 503)
    await delay(200)
    t.equal(lateThrew, null, 'the late res.send() is dropped, not thrown from the timer')
    const r3 = await request({ url: '/lateReturn' })
    t.equal(r3.statusCode, 503, 'a late returned value: 503 stands')
    await delay(150)
    t.equal((await request({ url: '/sync' })).body, 'sync ok', 'sync handlers unaffected; the server goes on')
  })

  t.test(`route timeout overrides the app's; 0 disables [${mode}]`, async (t) => {
    const { request } = await makeApp(t, mode, {
      options: { requestTimeout: 0 },
      setup: (app) => {
        app.get('/app', async () => { await delay(150); return 'no app limit' })
        app.get('/short', { timeout: 40 }, async () => { await delay(300); return 'too late' })
      }
    })
    t.equal((await request({ url: '/app' })).body, 'no app limit', 'requestTimeout 0: no limit')
    t.equal((await request({ url: '/short' })).statusCode, 503, 'the route timeout applies')
  })

  t.test(`a route with timeout 0 under an app limit [${mode}]`, async (t) => {
    const { request } = await makeApp(t, mode, {
      options: { requestTimeout: 40 },
      setup: (app) => {
        app.get('/free', { timeout: 0 }, async () => { await delay(150); return 'free' })
        app.get('/bound', async () => { await delay(300); return 'bound' })
        app.get('/long', { timeout: 1000 }, async () => { await delay(150); return 'long' })
      }
    })
    t.equal((await request({ url: '/free' })).body, 'free', 'route 0 disables it for the route')
    t.equal((await request({ url: '/long' })).body, 'long', 'a longer route timeout overrides the app')
    t.equal((await request({ url: '/bound' })).statusCode, 503, 'other routes keep the app limit')
  })
}

t.test('pipelined requests after a timed-out one keep their order', async (t) => {
  const { port } = await makeApp(t, 'socket', {
    options: { requestTimeout: 50 },
    setup: (app) => {
      app.get('/hang', () => new Promise(() => {}))
      app.get('/a', () => 'a')
      app.get('/b', async () => { await delay(10); return 'b' })
    }
  })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  const req = (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`
  await c.write(req('/a') + req('/hang') + req('/a') + req('/b'))
  const rs = await c.readResponses(4)
  t.same(rs.map((r) => r.status), [200, 503, 200, 200])
  t.same(rs.map((r) => r.body.toString()).filter((_, i) => i !== 1), ['a', 'a', 'b'], 'in request order')
  await c.write(req('/a'))
  const [again] = await c.readResponses(1)
  t.equal(again.body.toString(), 'a', 'the connection stays usable')
})

t.test('a started stream is cut at the timeout; its later writes are dropped', async (t) => {
  let threw = null
  const { port } = await makeApp(t, 'socket', {
    options: { requestTimeout: 50 },
    setup: (app) => app.get('/s', (req, res) => {
      res.write('first')
      setTimeout(() => { try { res.write('more'); res.end() } catch (e) { threw = e } }, 200)
    })
  })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  await c.write('GET /s HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => c.ended, 'connection closed')
  await delay(250)
  t.equal(threw, null, 'late writes dropped without a throw')
})
