// The JSON fast path of schema.body routes (src/json-shape.ts): differential against
// JSON.parse on generated and mutated texts (it either gives JSON.parse's value, keys
// in the same order, or declines), what it declines, and over a socket and inject():
// a validated route answers the same for fast and fallback bodies, and bad JSON is
// still a 400 with its code.

import t from 'tap'
import { createRequire } from 'node:module'
import { forBoth } from './helpers/api.mjs'

const require = createRequire(import.meta.url)
const { parseShaped, jsonShape, FALLBACK } = require('../dist/json-shape.js')

const NAMES = jsonShape({ type: 'object', properties: { title: {}, done: {}, priority: {}, t: {}, '0': {}, 'cl\u00e9': {} } })

/** parseShaped on the UTF-8 bytes of `text`, between bytes that must not be read. */
function parse (text) {
  const b = Buffer.from('"x' + text + '}1"', 'utf8')
  return parseShaped(new Uint8Array(b.buffer, b.byteOffset, b.length), 2, 2 + Buffer.byteLength(text), NAMES)
}

let accepted = 0
function same (t, text, msg) {
  let want
  try { want = JSON.parse(text) } catch { want = FALLBACK }
  const got = parse(text)
  if (got === FALLBACK) return true // declining is always allowed
  if (want === FALLBACK) { t.fail(`accepted invalid JSON ${JSON.stringify(text)}`); return false }
  accepted++
  if (!Object.is(JSON.stringify(got), JSON.stringify(want)) || Object.getPrototypeOf(got) !== Object.prototype ||
      Object.keys(got).join() !== Object.keys(want).join() ||
      !Object.keys(want).every((k) => Object.is(got[k], want[k]))) {
    t.fail(`${msg}: ${JSON.stringify(text)} gave ${JSON.stringify(got)}`)
    return false
  }
  return true
}

t.test('the shapes made, and the ones refused', async (t) => {
  const s = jsonShape({ type: 'object', properties: { a: {}, "it's ${x}\u2028": {} } })
  t.same(s.names, ['a', "it's ${x}\u2028"])
  const o = {}
  s.store(o, 1, 7)
  t.same(Object.keys(o), ["it's ${x}\u2028"], 'a name that needs quoting is stored under itself')
  t.equal(jsonShape({ properties: { 'a"b': {} } }), null, 'a name JSON spells with an escape')
  t.equal(jsonShape({ properties: { 'a\\b': {} } }), null)
  t.equal(jsonShape({ properties: { 'a\nb': {} } }), null)
  t.equal(jsonShape({ type: 'object' }), null, 'no properties')
  t.equal(jsonShape({ type: 'object', properties: [] }), null)
  t.equal(jsonShape(JSON.parse('{"properties":{"__proto__":{}}}')), null, '__proto__ is never assigned')
  t.equal(jsonShape({ properties: { constructor: {} } }), null, 'nor an Object.prototype name')
  t.equal(jsonShape({ properties: { toString: {} } }), null)
  t.equal(jsonShape(null), null)
})

t.test('fast for the usual bodies, declines the rest', async (t) => {
  const ok = (s) => t.not(parse(s), FALLBACK, JSON.stringify(s))
  const no = (s) => t.equal(parse(s), FALLBACK, JSON.stringify(s))
  ok('{"title":"buy milk","done":false,"priority":2}')
  ok(' { "title" : "x" , "done" : true,\n\t"priority":-0 }\r\n')
  ok('{}')
  ok('{"title":null,"title":"again"}')
  ok('{"cl\u00e9":"x","title":"~\x7f"}')
  no('{"title":"h\u00e9"}') // a non-ASCII string value
  ok('{"priority":123456789012345}')
  no('{"title":"a\\"b"}') // an escape
  no('{"ti\\u0074le":1}')
  no('{"other":1}') // undeclared key
  no('{"priority":1.5}')
  no('{"priority":1e3}')
  no('{"priority":1234567890123456}') // 16 digits
  no('{"priority":01}')
  no('{"title":{}}')
  no('{"title":[1]}')
  no('{"title":"x",}')
  no('{"title":"x"} x')
  no('[1]')
  no('\ufeff{}')
  no('{"title":"a\tb"}') // a control character
  no('{"title":tru}')
  no('{"title":"x"')
  no('{"title"')
  no('{')
  t.same(Object.keys(parse('{"done":true,"title":"a","done":false}')), ['done', 'title'], 'a duplicate keeps its first place')
  t.ok(Object.is(parse('{"priority":-0}').priority, -0))
})

t.test('string values of every length: short ones made byte by byte, long ones sliced, each exact', async (t) => {
  // Every printable ASCII byte and DEL, at each position, for lengths 0-40 (the short path ends at 12).
  const chars = Array.from({ length: 96 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '"' && c !== '\\').join('')
  for (let n = 0; n <= 40; n++) {
    for (let k = 0; k < chars.length; k += 7) {
      const v = Array.from({ length: n }, (_, i) => chars[(k + i * 13) % chars.length]).join('')
      const w = chars[(k + 5) % chars.length].repeat(n > 0 ? n - 1 : 0)
      const text = `{"title":${JSON.stringify(v)},"t":${JSON.stringify(w)},"done":true}`
      const got = parse(text)
      if (got === FALLBACK || got.title !== v || got.t !== w || got.done !== true) {
        t.fail(`length ${n}: ${JSON.stringify(text)} gave ${got === FALLBACK ? 'FALLBACK' : JSON.stringify(got)}`)
        return
      }
    }
  }
  t.pass('lengths 0-40 decoded exactly')
})

t.test('differential against JSON.parse: generated bodies and every one-byte mutation', async (t) => {
  const keys = ['"title"', '"done"', '"priority"', '"t"', '"0"', '"x"', '"cl\u00e9"']
  const values = ['"buy milk"', '""', 'true', 'false', 'null', '0', '-0', '7', '-12', '10', '1.5', '"a\\nb"', '{}', '[]', '"\u00e9"']
  const spaces = ['', ' ', '\n', '\t', '\r\n']
  let seed = 1
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  const alphabet = '{}[]":,. -+0123456789eEtrufalsn\\x\u00e9\t'
  let checked = 0
  for (let r = 0; r < 1000; r++) {
    const m = rnd(4)
    const sp = () => spaces[rnd(spaces.length)]
    const parts = []
    for (let i = 0; i < m; i++) parts.push(sp() + keys[rnd(keys.length)] + sp() + ':' + sp() + values[rnd(values.length)] + sp())
    const text = sp() + '{' + parts.join(',') + '}' + sp()
    if (!same(t, text, 'generated')) return
    for (let i = 0; i < text.length; i++) {
      const c = alphabet[rnd(alphabet.length)]
      const variants = [text.slice(0, i) + c + text.slice(i + 1), text.slice(0, i) + text.slice(i + 1), text.slice(0, i) + c + text.slice(i)]
      for (const v of variants) {
        if (!same(t, v, 'mutated')) return
        checked++
      }
    }
  }
  t.ok(checked > 10000, `${checked} mutations checked`)
  t.ok(accepted > 1000, `${accepted} texts taken by the fast path`)
})

const SCHEMA = {
  body: {
    type: 'object',
    properties: { title: { type: 'string', minLength: 1 }, done: { type: 'boolean' }, priority: { type: 'integer', minimum: 0 } },
    required: ['title'],
    additionalProperties: false,
  },
}

forBoth(t, 'a schema.body route: fast and fallback bodies validate alike; bad JSON is still 400', {
  setup (app) {
    app.post('/todo', { schema: SCHEMA }, (req) => ({ body: req.body, keys: Object.keys(req.body) }))
  },
}, async (t, { request }) => {
  const post = (body) => request({ method: 'POST', url: '/todo', headers: { 'content-type': 'application/json' }, body })
  let r = await post('{"title":"buy milk","done":false,"priority":2}')
  t.equal(r.statusCode, 200)
  t.same(r.json(), { body: { title: 'buy milk', done: false, priority: 2 }, keys: ['title', 'done', 'priority'] })
  r = await post('{"title":"b\\u0075y","extra":{"a":1}}')
  t.equal(r.statusCode, 200, 'an escape and an undeclared key take JSON.parse; removeAdditional drops the key')
  t.same(r.json(), { body: { title: 'buy' }, keys: ['title'] })
  r = await post('{"title":"x","priority":"3"}')
  t.same(r.json().body, { title: 'x', priority: 3 }, 'coerced as before')
  r = await post('{"title":"","done":false}')
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'SALVO_ERR_VALIDATION')
  r = await post('{"title":"x",}')
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'SALVO_ERR_INVALID_JSON')
  r = await post('{"title":"x","__proto__":{"polluted":1}}')
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'SALVO_ERR_PROTO_POISONING', 'poisoning is still refused (a key outside the shape)')
  t.equal({}.polluted, undefined)
})
