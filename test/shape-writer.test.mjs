// The byte writer of flat response schemas (src/shape-writer.ts): differential against
// fast-json-stringify, which it must match byte for byte (UTF-8) or decline; which schemas
// get a writer; and over a socket and inject(): the answers of writer routes equal the
// serializer's for values the writer writes and for those it leaves to the serializer,
// a getter runs once, a throwing getter is a 500, and a getter that answers through the
// same writer (re-entry) does not corrupt either answer.

import t from 'tap'
import { createRequire } from 'node:module'
import { forBoth } from './helpers/api.mjs'

const require = createRequire(import.meta.url)
const fastJson = require('fast-json-stringify')
const { compileShapeWriter, MAX_STRING } = require('../dist/shape-writer.js')

/** The writer's bytes for `value` (a Buffer), or a string saying why not; checks the bound. */
function written (w, value) {
  const bound = w.read(value)
  if (bound === -2) return 'unread'
  if (bound < 0) {
    written.snap = w.snapshot()
    return 'declined'
  }
  const b = Buffer.alloc(bound + 8, 0xee)
  const n = w.emit(b, 4)
  if (n < 0) {
    written.snap = w.snapshot()
    return 'declined'
  }
  if (n > bound) throw new Error(`wrote ${n} bytes, bound ${bound}`)
  if (b[3] !== 0xee || b[4 + n] !== 0xee) throw new Error('wrote outside its room')
  return b.subarray(4, 4 + n)
}

// Deterministic pseudo-random values (xorshift), so a failure is reproducible.
let seed = 0x2545f491
function rnd () {
  seed ^= seed << 13; seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5; seed >>>= 0
  return seed / 0x100000000
}
const pick = (a) => a[Math.floor(rnd() * a.length)]
const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '/', '\u00e9', '\u07ff', '\u0800', '\u20ac', '\uffff', '\ud83d\ude00', '\u007f', '<', '\u2028', '\udbff\udfff']
// Characters the serializer escapes as \u.... (the writer declines them): rarer, so most values are written.
const RARE = ['\n', '\u0001', '\u001f', '\ud800', '\udc00', '\ud83d']
function str (max) {
  let s = ''
  const n = Math.floor(rnd() * max)
  for (let i = 0; i < n; i++) s += rnd() < 0.01 ? pick(RARE) : pick(CHARS)
  return s
}
const NUMBERS = [0, -0, 1, -1, 7, 42, 1e15, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 60, 1e21, -1e21, 0.5, -0.1, 1.5e-7, 5e-324, 1.7976931348623157e308, Infinity, -Infinity, NaN, 123456789.125]
function valueOf (type) {
  const r = rnd()
  if (r < 0.08) return undefined
  if (r < 0.14) return pick([null, '12', 3, true, new Date(0), /re/, {}, [], 1.5])
  if (type === 'string') return rnd() < 0.05 ? 'x'.repeat(MAX_STRING + 1) : str(rnd() < 0.2 ? 60 : 14)
  if (type === 'boolean') return rnd() < 0.5
  if (type === 'integer') return rnd() < 0.6 ? Math.floor((rnd() - 0.5) * 10 ** Math.floor(rnd() * 17)) : pick(NUMBERS)
  return rnd() < 0.5 ? (rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 10) : pick(NUMBERS)
}

const SCHEMAS = [
  { type: 'object', properties: { message: { type: 'string' } } },
  { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, score: { type: 'number' }, ok: { type: 'boolean' } } },
  { type: 'object', required: ['b', 'id'], properties: { a: { type: 'string' }, id: { type: 'integer' }, c: { type: 'boolean' }, b: { type: 'number', description: 'd' } } },
  { type: 'object', title: 't', properties: { 'cl\u00e9 "q"': { type: 'string' }, '\u0000': { type: 'integer' }, 'x\ud800': { type: 'boolean' } } },
]

t.test('differential: the serializer\'s bytes, or declined (then the serializer answers)', async (t) => {
  for (const schema of SCHEMAS) {
    const w = compileShapeWriter(schema)
    t.ok(w, 'a flat schema gets a writer')
    const ser = fastJson(schema)
    const entries = Object.entries(schema.properties)
    let same = 0
    let declined = 0
    let errors = 0
    for (let i = 0; i < 3000; i++) {
      const obj = {}
      for (const [k, p] of entries) {
        const v = valueOf(p.type)
        if (v !== undefined || rnd() < 0.5) obj[k] = v
      }
      let expected
      try {
        expected = Buffer.from(ser(obj))
      } catch {
        expected = null // the serializer throws (NaN, a missing required property, ...)
      }
      const got = written(w, obj)
      if (got === 'declined') {
        declined++
        // The serializer then gets the values read: the same text as from the value itself.
        let fromSnap = null
        try {
          fromSnap = Buffer.from(ser(written.snap))
        } catch {}
        if (String(fromSnap) !== String(expected)) t.fail(`snapshot of ${JSON.stringify(obj)}: ${fromSnap} !== ${expected}`)
        continue
      }
      if (expected === null) {
        errors++
        t.fail(`wrote ${got} where the serializer throws, for ${JSON.stringify(obj)}`)
        continue
      }
      if (!got.equals(expected)) t.fail(`${JSON.stringify(schema)} ${JSON.stringify(obj)}: ${got} !== ${expected}`)
      else same++
    }
    t.ok(same > 1000, `${same} written as the serializer, ${declined} declined`)
    t.equal(errors, 0)
  }
})

const ITEM = SCHEMAS[2]
const LIST = { type: 'array', items: ITEM }
class Thing { constructor () { this.id = 1; this.b = 2 } }

function itemOf () {
  const r = rnd()
  if (r < 0.02) return null
  if (r < 0.03) return undefined
  if (r < 0.04) return new Thing()
  if (r < 0.05) return { toJSON () { return { id: 3, b: 4 } } }
  const o = {}
  for (const [k, p] of Object.entries(ITEM.properties)) {
    const v = valueOf(p.type)
    if (v !== undefined) o[k] = v
  }
  // Mostly the required ones present, so that most lists are written.
  if (rnd() < 0.9) { o.id = Math.floor(rnd() * 1e6); o.b = rnd() * 100 }
  return o
}

t.test('differential, arrays of flat objects: the serializer\'s bytes, or declined with the same text', async (t) => {
  const w = compileShapeWriter(LIST)
  t.ok(w && w.array, 'an array of a flat object schema gets a writer')
  const ser = fastJson(LIST)
  let same = 0
  let declined = 0
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(rnd() * (rnd() < 0.1 ? 60 : 6))
    const list = []
    for (let j = 0; j < n; j++) list.push(itemOf())
    let expected
    try {
      expected = ser(list)
    } catch {
      expected = null
    }
    const got = written(w, list)
    if (got === 'declined') {
      declined++
      let fromSnap = null
      try {
        fromSnap = ser(written.snap)
      } catch {}
      if (fromSnap !== expected) t.fail(`snapshot of ${JSON.stringify(list)}: ${fromSnap} !== ${expected}`)
    } else if (String(got) !== expected) {
      t.fail(`${JSON.stringify(list)}: ${got} !== ${expected}`)
    } else same++
  }
  t.ok(same > 500, `${same} written as the serializer, ${declined} declined`)
  for (const v of [null, 'x', { length: 1, 0: { id: 1, b: 1 } }, new Set()]) t.equal(written(w, v), 'unread', 'no array: the serializer\'s, unread')
  const long = new Array(20000).fill({ id: 1, b: 1 })
  t.equal(written(w, long), 'unread', 'past MAX_VALUES: unread')
  t.equal(String(written(w, [])), '[]')
  t.equal(String(written(w, [{ id: 1, b: 2 }, { b: 3, id: 4, a: 'x' }])), ser([{ id: 1, b: 2 }, { b: 3, id: 4, a: 'x' }]))
})

t.test('what the writer declines, and what it still writes', async (t) => {
  const w = compileShapeWriter(SCHEMAS[1])
  const ser = fastJson(SCHEMAS[1])
  for (const v of [{ name: 'a\nb' }, { name: 'lone \ud800' }, { name: 'x'.repeat(MAX_STRING + 1) }, { name: null }, { id: 1.5 }, { id: '3' }, { score: '2' }, { ok: 1 }]) {
    t.equal(written(w, v), 'declined', JSON.stringify(v))
  }
  for (const v of [{}, { score: Infinity }, { score: -0 }, { id: 2 ** 60 }, { name: 'x'.repeat(MAX_STRING) }, { name: '\ud83d\ude00"\\' }, { ok: false, id: -12 }]) {
    t.equal(String(written(w, v)), ser(v), JSON.stringify(v))
  }
})

t.test('only flat schemas of the four types get a writer', async (t) => {
  const no = [
    { type: 'object' },
    { type: 'object', properties: {} },
    { properties: { a: { type: 'string' } } },
    { type: 'object', additionalProperties: true, properties: { a: { type: 'string' } } },
    { type: 'object', properties: { a: { type: 'string', format: 'date-time' } } },
    { type: 'object', properties: { a: { type: 'string', nullable: true } } },
    { type: 'object', properties: { a: { type: 'string', default: 'x' } } },
    { type: 'object', properties: { a: { type: ['string', 'null'] } } },
    { type: 'object', properties: { a: { type: 'object' } } },
    { type: 'object', properties: { a: { type: 'array', items: { type: 'string' } } } },
    { type: 'object', properties: { a: { $ref: '#/x' } } },
    { type: 'object', properties: { a: { type: 'string' } }, required: ['b'] },
    { type: 'array', items: { type: 'string' } },
    { type: 'string' },
    null,
  ]
  for (const s of no) t.equal(compileShapeWriter(s), null, JSON.stringify(s))
  t.ok(compileShapeWriter({ type: 'object', description: 'x', properties: { a: { type: 'string', title: 'A' } }, required: ['a'] }))
  for (const s of [
    { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } }, minItems: 1 },
    { type: 'array', items: [{ type: 'object', properties: { a: { type: 'string' } } }] },
    { type: 'array', items: { type: 'object', properties: { a: { type: 'array' } } } },
    { type: 'array' },
  ]) t.equal(compileShapeWriter(s), null, JSON.stringify(s))
})

const FLAT = { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, name: { type: 'string' }, n: { type: 'number' } } }

forBoth(t, 'writer routes answer the serializer\'s JSON, for written and declined values', {
  setup (app) {
    let reads = 0
    app.decorate('reads', () => reads)
    const values = {
      plain: { id: 1, name: 'caf\u00e9 \ud83d\ude00', n: 1.5, extra: 'left out' },
      coerced: { id: '7', name: null, n: '2' },
      control: { id: 3, name: 'line\nbreak' },
      getter: { id: 4, get name () { reads++; return 'once' }, n: 0 },
      'getter-declined': { id: 5, get name () { reads++; return 'tab\there' } },
      missing: { name: 'no id' },
      nan: { id: 1, n: NaN },
      throws: { id: 1, get name () { throw new Error('getter failed') } },
      instance: new (class Thing { constructor () { this.id = 9; this.name = 'class' } })(),
      tojson: { toJSON () { return { id: 10, name: 'from toJSON' } } },
    }
    const lists = {
      two: [{ id: 1, name: 'a' }, { id: 2, n: 0.25 }],
      empty: [],
      'null-item': [{ id: 1 }, null],
      'coerced-item': [{ id: '5' }],
    }
    app.get('/list/:k', { schema: { response: { 200: { type: 'array', items: FLAT } } } }, (req) => lists[req.params.k])
    app.get('/v/:k', { schema: { response: { 200: FLAT, 201: FLAT } } }, (req, res) => {
      if (req.params.k === 'created') {
        res.status(201).header('x-extra', 'yes')
        return { id: 2, name: 'made' }
      }
      return values[req.params.k]
    })
  },
}, async (t, { request, app }) => {
  const ser = fastJson(FLAT)
  const cases = {
    plain: { id: 1, name: 'caf\u00e9 \ud83d\ude00', n: 1.5 },
    coerced: { id: '7', name: null, n: '2' },
    control: { id: 3, name: 'line\nbreak' },
    getter: { id: 4, name: 'once', n: 0 },
    'getter-declined': { id: 5, name: 'tab\there' },
    instance: { id: 9, name: 'class' },
    tojson: { id: 10, name: 'from toJSON' },
  }
  for (const [k, v] of Object.entries(cases)) {
    const r = await request({ url: '/v/' + k })
    t.equal(r.statusCode, 200, k)
    t.match(r.headers['content-type'], /^application\/json/)
    t.equal(r.body, ser(v), k + ': the serializer\'s text')
    t.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body), k + ': its byte length')
  }
  t.equal(app.reads(), 2, 'each getter ran once (the declined one too)')
  for (const k of ['missing', 'nan', 'throws']) {
    const r = await request({ url: '/v/' + k })
    t.equal(r.statusCode, 500, k + ': the serializer\'s error is a 500, as without the writer')
  }
  const list = fastJson({ type: 'array', items: FLAT })
  for (const [k, v] of Object.entries({ two: [{ id: 1, name: 'a' }, { id: 2, n: 0.25 }], empty: [], 'null-item': [{ id: 1 }, null], 'coerced-item': [{ id: '5' }] })) {
    const r = await request({ url: '/list/' + k })
    t.equal(r.statusCode, 200, 'list ' + k)
    t.equal(r.body, list(v), 'list ' + k + ': the serializer\'s text')
  }
  const c = await request({ url: '/v/created' })
  t.equal(c.statusCode, 201)
  t.equal(c.headers['x-extra'], 'yes')
  t.equal(c.body, '{"id":2,"name":"made"}')
  const h = await request({ method: 'HEAD', url: '/v/plain' })
  t.equal(h.statusCode, 200)
  t.equal(h.body, '')
  t.equal(Number(h.headers['content-length']), Buffer.byteLength(ser(cases.plain)), 'HEAD: the length of the GET body')
})

forBoth(t, 're-entry: a getter that answers another request through the same writer', {
  setup (app) {
    const state = { held: null }
    app.decorate('state', state)
    const handler = (req, res) => {
      if (req.params.k === 'held') {
        state.held = res // answered later, from the getter below
        return undefined
      }
      return {
        id: 1,
        get name () {
          // The same route and status: the writer is busy with this value's read.
          state.held.send({ id: 2, name: 'inner' })
          return 'outer'
        },
      }
    }
    app.get('/r/:k', { schema: { response: { 200: FLAT } } }, handler)
    // Without a writer: JSON.stringify runs the getter inside the output's serialization too.
    app.get('/plain/:k', handler)
  },
}, async (t, { request, app }) => {
  for (const prefix of ['/r/', '/plain/']) {
    app.state.held = null
    const held = request({ url: prefix + 'held' })
    for (let i = 0; i < 200 && app.state.held === null; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    t.ok(app.state.held, 'the held request reached its handler')
    const outer = await request({ url: prefix + 'outer' })
    t.equal(outer.statusCode, 200, prefix + ': the outer request is answered')
    t.equal(outer.body, '{"id":1,"name":"outer"}', prefix + ': with its own values')
    const inner = await held
    t.equal(inner.statusCode, 200)
    t.equal(inner.body, '{"id":2,"name":"inner"}', prefix + ': the inner answer, its own')
  }
})
