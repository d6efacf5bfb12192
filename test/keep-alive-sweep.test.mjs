// keepAliveTimeout's sweep and a request that waits unread: the sweep is a timer, and libuv
// runs timers before it polls sockets, so after the loop was busy while the timeout passed
// the sweep sees a connection "idle" although its next request is already in the socket.
// That request must be served, not dropped by the close (behind nginx: a 502 for a POST;
// test/nginx.test.mjs shows it through a real nginx). Raw sockets on 127.0.0.1.

import t from 'tap'
import { listenApp, T } from './helpers/api.mjs'
import { RawClient, delay, post } from './helpers/raw-client.mjs'

const KEEP_ALIVE_MS = 1000

t.test('a request already in the socket when keepAliveTimeout passes is answered', async (t) => {
  const { port, server } = await listenApp(t, {
    options: { keepAliveTimeout: KEEP_ALIVE_MS },
    setup: (app) => app.post('/echo', (req) => req.body)
  })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  await c.write(post('/echo', 'first'))
  t.equal((await c.readResponses(1, { timeout: T }))[0].body.toString(), 'first')
  await delay(KEEP_ALIVE_MS / 2)
  await c.write(post('/echo', 'second'))
  // keep the loop (salvo's too: same thread) busy past the timeout, so the sweep runs first
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, KEEP_ALIVE_MS)
  const [r] = await c.readResponses(1, { timeout: T })
  t.equal(r.status, 200)
  t.equal(r.body.toString(), 'second', 'served on the same connection')
  t.equal(server.stats().accepted, 1)
  // idle afterwards: closed by keepAliveTimeout as usual
  t.ok(await c.closedWithin(3 * KEEP_ALIVE_MS), 'then the idle connection is closed')
})
