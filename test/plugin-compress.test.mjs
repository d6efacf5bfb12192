// Issue 11 item 5: the compress plugin: br/gzip/deflate by Accept-Encoding with q-values,
// the threshold, Vary, streamed answers through zlib streams, skipped types, HEAD, 204/304,
// answers that already have Content-Encoding. Bodies are decompressed with node:zlib and compared.

import t from 'tap'
import zlib from 'node:zlib'
import { Readable } from 'node:stream'
import { forBoth, salvo } from './helpers/api.mjs'

const big = 'salvo compresses this line. '.repeat(200)
const unzip = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync }

forBoth(t, 'compress: negotiation, threshold, Vary, streams, skips', {
  setup (app) {
    const { compress } = salvo()
    compress(app)
    app.get('/big', () => big)
    app.get('/json', () => ({ text: big }))
    app.get('/small', () => 'tiny')
    app.get('/png', (req, res) => res.type('image/png').send(Buffer.from(big)))
    app.get('/encoded', (req, res) => res.header('Content-Encoding', 'gzip').send(zlib.gzipSync(big)))
    app.get('/stream', () => Readable.from((function * () { for (let i = 0; i < 50; i++) yield `chunk ${i} ${'x'.repeat(100)}\n` })()))
    app.get('/nocontent', (req, res) => res.status(204).send(null))
  }
}, async (t, { request }) => {
  for (const enc of ['gzip', 'deflate', 'br']) {
    const r = await request({ url: '/big', headers: { 'accept-encoding': enc } })
    t.equal(r.headers['content-encoding'], enc, `${enc} chosen`)
    t.equal(r.headers.vary, 'Accept-Encoding')
    t.equal(unzip[enc](r.rawBody).toString(), big, `${enc} decompresses to the body`)
    t.equal(Number(r.headers['content-length']), r.rawBody.length, 'Content-Length of the compressed body')
  }
  const pref = await request({ url: '/big', headers: { 'accept-encoding': 'gzip, deflate, br' } })
  t.equal(pref.headers['content-encoding'], 'br', 'server preference among equals')
  const q = await request({ url: '/big', headers: { 'accept-encoding': 'br;q=0.1, gzip;q=0.9, deflate;q=0.5' } })
  t.equal(q.headers['content-encoding'], 'gzip', 'the highest q wins')
  const zero = await request({ url: '/big', headers: { 'accept-encoding': 'br;q=0, gzip;q=0, deflate' } })
  t.equal(zero.headers['content-encoding'], 'deflate', 'q=0 excludes')
  const star = await request({ url: '/big', headers: { 'accept-encoding': 'br;q=0, *' } })
  t.equal(star.headers['content-encoding'], 'gzip', '* stands for the rest')
  const identity = await request({ url: '/big', headers: { 'accept-encoding': 'identity' } })
  t.notOk('content-encoding' in identity.headers, 'identity: not compressed')
  t.equal(identity.body, big)
  t.equal(identity.headers.vary, 'Accept-Encoding', 'Vary even when not compressed')
  const none = await request({ url: '/big' })
  t.notOk('content-encoding' in none.headers, 'no Accept-Encoding: identity')
  const j = await request({ url: '/json', headers: { 'accept-encoding': 'gzip' } })
  t.same(JSON.parse(zlib.gunzipSync(j.rawBody)), { text: big })
  const small = await request({ url: '/small', headers: { 'accept-encoding': 'gzip' } })
  t.notOk('content-encoding' in small.headers, 'below the threshold')
  t.equal(small.body, 'tiny')
  const png = await request({ url: '/png', headers: { 'accept-encoding': 'gzip' } })
  t.notOk('content-encoding' in png.headers, 'an image is not compressed again')
  const enc = await request({ url: '/encoded', headers: { 'accept-encoding': 'br' } })
  t.equal(enc.headers['content-encoding'], 'gzip', 'an answer with Content-Encoding is left alone')
  t.equal(zlib.gunzipSync(enc.rawBody).toString(), big)
  const s = await request({ url: '/stream', headers: { 'accept-encoding': 'gzip' } })
  t.equal(s.headers['content-encoding'], 'gzip', 'a streamed answer is compressed')
  t.equal(s.headers['transfer-encoding'], 'chunked')
  const lines = zlib.gunzipSync(s.rawBody).toString().split('\n')
  t.equal(lines.length, 51)
  t.equal(lines[49], `chunk 49 ${'x'.repeat(100)}`)
  const h = await request({ method: 'HEAD', url: '/big', headers: { 'accept-encoding': 'gzip' } })
  t.notOk('content-encoding' in h.headers, 'HEAD not compressed')
  const nc = await request({ url: '/nocontent', headers: { 'accept-encoding': 'gzip' } })
  t.equal(nc.statusCode, 204)
  t.notOk('content-encoding' in nc.headers)
})

t.test('compress: options are validated, negotiate()', async (t) => {
  const { App, compress } = salvo()
  for (const o of [{ treshold: 1 }, { threshold: -1 }, { encodings: ['zstd'] }, { encodings: [] }, { level: 12 }, { filter: 1 }]) {
    t.throws(() => compress(new App(), o), { code: 'SALVO_ERR_INVALID_ARG' }, JSON.stringify(o))
  }
  t.equal(compress[Symbol.for('skip-override')], true)
})
