// The content-type parser's reuse of the last request's answer (ContentTypeParsers.forRequest):
// requests pipelined in one read (one slab) whose Content-Type differs from the last one's by a
// byte, by case, by length, or sits in a field that only looks like it, each get their own
// parser; the name is matched without case, the value exactly.

import t from 'tap'
import { RawClient } from './helpers/raw-client.mjs'
import { listenApp } from './helpers/api.mjs'

const kind = (req) => (Buffer.isBuffer(req.body) ? 'raw:' + req.body.length : typeof req.body === 'string' ? 'text:' + req.body : 'json:' + JSON.stringify(req.body))

t.test('pipelined requests: each Content-Type is read for itself', async (t) => {
  const { port } = await listenApp(t, { setup (app) { app.post('/k', (req) => kind(req)) } })
  const c = await RawClient.connect(port)
  t.teardown(() => c.destroy())
  const req = (fields, body) => `POST /k HTTP/1.1\r\nHost: a\r\n${fields}Content-Length: ${body.length}\r\n\r\n${body}`
  const cases = [
    ['Content-Type: application/json\r\n', '{"a":1}', 'json:{"a":1}'],
    ['content-type: application/json\r\n', '{"a":2}', 'json:{"a":2}'],
    ['CONTENT-TYPE: application/json\r\n', '{"a":3}', 'json:{"a":3}'],
    ['Content-Type: application/jsom\r\n', '{"a":4}', 'raw:7'], // one byte off, same length
    ['Content-Type: application/json\r\n', '{"a":5}', 'json:{"a":5}'],
    ['Content-Typf: application/json\r\n', '{"a":6}', 'raw:7'], // a 12-byte name that is not Content-Type
    ['Content-Type: text/plain\r\n', 'hello', 'text:hello'],
    ['Content-Type: text/plaiN\r\n', 'hello', 'text:hello'], // the slow path normalizes the case
    ['Content-Type: text/plai\r\n', 'hello', 'raw:5'], // shorter: a tail of other length
    ['X: 1\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n', '{"a":7}', 'json:{"a":7}'], // the first field decides
    ['', 'x', 'raw:1'], // none
    ['Content-Type: application/json\r\n', '{"a":8}', 'json:{"a":8}'],
  ]
  await c.write(cases.map(([f, b]) => req(f, b)).join(''))
  const rs = await c.readResponses(cases.length)
  t.same(rs.map((r) => r.text), cases.map((k) => k[2]))
})
