// Pipelining: many requests in one socket write, answered completely and in order.

import t from 'tap'
import { connect, get, post } from './helpers/raw-client.mjs'
import { startApp, bodyDigest, STATIC_ROUTES } from './helpers/app.mjs'

const { port } = await startApp(t)

function checkInOrder (t, responses, expectedBodies) {
  t.equal(responses.length, expectedBodies.length, 'every request answered')
  let firstBad = -1
  for (let i = 0; i < expectedBodies.length; i++) {
    const r = responses[i]
    if (!r || r.status !== 200 || r.text !== expectedBodies[i] ||
        r.headers['content-length'] !== String(r.body.length) || !r.headers.date) {
      firstBad = i
      break
    }
  }
  t.equal(firstBad, -1, firstBad < 0
    ? 'all responses complete and in order'
    : `response ${firstBad} is ${JSON.stringify(responses[firstBad] && { status: responses[firstBad].status, text: responses[firstBad].text })}, expected ${JSON.stringify(expectedBodies[firstBad])}`)
}

t.test('24 pipelined requests in one write (query strings)', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  const expected = []
  for (let i = 0; i < 24; i++) {
    reqs.push(get(`/q?i=${i}`))
    expected.push(`/q?i=${i}`)
  }
  await c.write(Buffer.concat(reqs))
  const responses = await c.readResponses(24)
  checkInOrder(t, responses, expected)
  t.equal(c.peek().rest.length, 0, 'no extra bytes')
  // still in sync: one more request on the same connection
  await c.write(get('/q?i=after'))
  const [after] = await c.readResponses(1)
  t.equal(after.text, '/q?i=after')
})

t.test('24 pipelined requests in one write (24 static routes)', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  const expected = []
  for (let i = 0; i < 24; i++) {
    const k = (i * 7) % STATIC_ROUTES // a permutation, so order errors show
    reqs.push(get(`/n/${k}`))
    expected.push(`n=${k}`)
  }
  await c.write(Buffer.concat(reqs))
  checkInOrder(t, await c.readResponses(24), expected)
})

t.test('24 pipelined requests with Connection: close on the last', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  const expected = []
  for (let i = 0; i < 24; i++) {
    reqs.push(get(`/q?i=${i}`, i === 23 ? { headers: { Connection: 'close' } } : {}))
    expected.push(`/q?i=${i}`)
  }
  await c.write(Buffer.concat(reqs))
  const { responses, rest } = await c.readUntilClose()
  checkInOrder(t, responses, expected)
  t.match(responses[23]?.headers.connection, /^close$/i)
  t.equal(rest.length, 0)
})

t.test('mixed pipelined batch: GET, static, POST bodies, 404, in order', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  const expect = []
  for (let i = 0; i < 30; i++) {
    switch (i % 5) {
      case 0: reqs.push(get(`/q?m=${i}`)); expect.push([200, `/q?m=${i}`]); break
      case 1: reqs.push(get(`/n/${i % STATIC_ROUTES}`)); expect.push([200, `n=${i % STATIC_ROUTES}`]); break
      case 2: {
        // a body that looks like a request must be treated as body bytes
        const body = Buffer.from(`GET /n/0 HTTP/1.1\r\nHost: x\r\n\r\n#${i}`)
        reqs.push(post('/body', body)); expect.push([200, bodyDigest(body)]); break
      }
      case 3: reqs.push(get(`/missing/${i}`)); expect.push([404, null]); break
      case 4: reqs.push(post('/echo', 'y'.repeat(i * 10))); expect.push([200, `len=${i * 10}`]); break
    }
  }
  await c.write(Buffer.concat(reqs))
  const responses = await c.readResponses(expect.length)
  t.same(responses.map((r) => r.status), expect.map((e) => e[0]), 'statuses in order')
  t.same(responses.map((r, i) => (expect[i][1] === null ? null : r.text)), expect.map((e) => e[1]), 'bodies in order')
  await c.write(get('/'))
  const [tail] = await c.readResponses(1)
  t.equal(tail.text, 'Hello world!', 'connection still in sync')
})

t.test('1,000 pipelined requests in one write', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  const expected = []
  for (let i = 0; i < 1000; i++) {
    reqs.push(get(`/q?i=${i}`))
    expected.push(`/q?i=${i}`)
  }
  const data = Buffer.concat(reqs)
  await c.write(data)
  const responses = await c.readResponses(1000, { timeout: 30_000 })
  checkInOrder(t, responses, expected)
  t.equal(c.peek().rest.length, 0, 'no extra bytes')
})

t.test('1,000 pipelined requests to static routes, twice on one connection', async (t) => {
  const c = await connect(t, port)
  for (let round = 0; round < 2; round++) {
    const reqs = []
    const expected = []
    for (let i = 0; i < 1000; i++) {
      const k = (i + round) % STATIC_ROUTES
      reqs.push(get(`/n/${k}`))
      expected.push(`n=${k}`)
    }
    await c.write(Buffer.concat(reqs))
    checkInOrder(t, await c.readResponses(1000, { timeout: 30_000 }), expected)
  }
})

t.test('1,000 pipelined POSTs with bodies in one write', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  const expected = []
  for (let i = 0; i < 1000; i++) {
    const body = Buffer.from(`body-${i}-`.repeat(1 + (i % 5)))
    reqs.push(post('/body', body))
    expected.push(bodyDigest(body))
  }
  await c.write(Buffer.concat(reqs))
  checkInOrder(t, await c.readResponses(1000, { timeout: 30_000 }), expected)
})

t.test('several clients pipelining at once each get their own answers in order', async (t) => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => connect(t, port)))
  await Promise.all(clients.map((c, ci) => {
    const reqs = []
    for (let i = 0; i < 200; i++) reqs.push(get(`/q?c=${ci}&i=${i}`))
    return c.write(Buffer.concat(reqs))
  }))
  const all = await Promise.all(clients.map((c) => c.readResponses(200, { timeout: 30_000 })))
  all.forEach((responses, ci) => {
    const expected = []
    for (let i = 0; i < 200; i++) expected.push(`/q?c=${ci}&i=${i}`)
    checkInOrder(t, responses, expected)
  })
})

t.test('a malformed request after good ones in the same write', async (t) => {
  const c = await connect(t, port)
  const reqs = []
  for (let i = 0; i < 5; i++) reqs.push(get(`/q?i=${i}`))
  reqs.push(Buffer.from('GET / HTTP/1.1\r\nBad Header\r\n\r\n'))
  reqs.push(get('/q?i=never'))
  await c.write(Buffer.concat(reqs))
  const { responses, rest } = await c.readUntilClose()
  t.same(responses.map((r) => r.status), [200, 200, 200, 200, 200, 400], 'good ones answered first, then 400, nothing after')
  t.same(responses.slice(0, 5).map((r) => r.text), [0, 1, 2, 3, 4].map((i) => `/q?i=${i}`))
  t.equal(rest.length, 0)
})
