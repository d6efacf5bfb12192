// onSend hooks that pass short payloads unchanged (SEND_GATE, compress's threshold): a JSON
// answer of a byte-writer route that is shorter than every hook's gate skips the hooks and is
// written as bytes (src/output.ts gate / respondShaped); longer ones, declined values and
// routes with any other onSend hook still run every hook, with the serializer's text.

import t from 'tap'
import zlib from 'node:zlib'
import { createRequire } from 'node:module'
import { forBoth, salvo } from './helpers/api.mjs'

const require = createRequire(import.meta.url)
const fastJson = require('fast-json-stringify')
const { SEND_GATE } = require('../dist/lifecycle.js')

const MSG = { type: 'object', properties: { message: { type: 'string' }, n: { type: 'integer' } } }
const schema = { response: { 200: MSG } }

forBoth(t, 'a gated hook is skipped below its gate, run at and above it', {
  setup (app) {
    const calls = []
    app.decorate('calls', calls)
    // A hook that claims a gate of 100 and marks what it sees: it keeps its word (below 100
    // it passes the payload unchanged), and records each call.
    const hook = (req, res, payload) => {
      calls.push(payload.length)
      return payload.length < 100 ? undefined : payload.replace('}', ',"seen":1}')
    }
    hook[SEND_GATE] = 100
    app.addHook('onSend', hook)
    app.get('/m/:len', { schema }, (req) => ({ message: 'x'.repeat(Number(req.params.len)), n: 1 }))
    app.get('/ctl', { schema }, () => ({ message: 'a\nb', n: 2 }))
    app.get('/plain', () => ({ message: 'no schema' }))
  },
}, async (t, { request, app }) => {
  const ser = fastJson(MSG)
  const short = await request({ url: '/m/3' })
  t.equal(short.body, ser({ message: 'xxx', n: 1 }))
  t.same(app.calls, [], 'a short answer skipped the hook')
  // {"message":"","n":1} is 20 chars + len; the writer's text bound counts 6 a character
  // and 25 for a number (63 for len 3, 105 for len 10), so the hook runs from well below
  // 100 on: it then sees the real text and passes it.
  const mid = await request({ url: '/m/10' })
  t.equal(mid.body, ser({ message: 'x'.repeat(10), n: 1 }))
  t.same(app.calls, [30], 'a length the bound cannot place below the gate: the hook ran, on the text')
  const long = await request({ url: '/m/90' })
  t.equal(long.body, ser({ message: 'x'.repeat(90), n: 1 }).replace('}', ',"seen":1}'), 'at the gate the hook changes the body')
  t.equal(app.calls.length, 2)
  const ctl = await request({ url: '/ctl' })
  t.equal(ctl.body, ser({ message: 'a\nb', n: 2 }), 'a string the serializer escapes: its text, below the gate')
  const plain = await request({ url: '/plain' })
  t.equal(plain.body, '{"message":"no schema"}')
  t.equal(app.calls.length, 3, 'a route without a writer runs the hook')
})

forBoth(t, 'cors + compress: small JSON as the serializer\'s, large JSON compressed, a user onSend hook still runs', {
  setup (app) {
    const { cors, compress } = salvo()
    cors(app, { origin: '*' })
    compress(app)
    app.get('/small', { schema }, () => ({ message: 'Hello, World!' }))
    app.get('/large', { schema }, () => ({ message: 'compress me '.repeat(200), n: 3 }))
    app.register(async (child) => {
      child.addHook('onSend', (req, res, payload) => {
        res.header('x-user-hook', String(payload.length))
      })
      child.get('/hooked', { schema }, () => ({ message: 'Hello, World!' }))
    })
  },
}, async (t, { request }) => {
  const ser = fastJson(MSG)
  const small = await request({ url: '/small', headers: { 'accept-encoding': 'gzip', origin: 'http://a.test' } })
  t.equal(small.body, ser({ message: 'Hello, World!' }))
  t.equal(small.headers['access-control-allow-origin'], '*')
  t.equal(small.headers['content-encoding'], undefined, 'below the threshold: not compressed')
  t.equal(small.headers.vary, undefined, 'and no Vary, as compress gives a body below its threshold')
  t.match(small.headers['content-type'], /^application\/json/)
  const large = await request({ url: '/large', headers: { 'accept-encoding': 'gzip' } })
  t.equal(large.headers['content-encoding'], 'gzip')
  t.equal(large.headers.vary, 'Accept-Encoding')
  t.equal(zlib.gunzipSync(large.rawBody).toString(), ser({ message: 'compress me '.repeat(200), n: 3 }))
  const hooked = await request({ url: '/hooked', headers: { 'accept-encoding': 'gzip' } })
  t.equal(hooked.body, ser({ message: 'Hello, World!' }))
  t.equal(hooked.headers['x-user-hook'], String(ser({ message: 'Hello, World!' }).length), 'a hook without a gate saw the text')
})
