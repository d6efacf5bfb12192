// trustProxy (src/trust-proxy.ts): the chain logic as a unit (option forms, CIDR v4/v6,
// IPv4-mapped IPv6, hop counts, Forwarded parsing, garbage that must never throw), then
// req.ip / ips / protocol / host / hostname through inject() and real sockets on 127.0.0.1
// (the peer is 127.0.0.1 in both: inject's virtual connection reports it too).

import t from 'tap'
import { createRequire } from 'node:module'
import { forBoth, salvo, throwsCode, socketRequest, listenApp } from './helpers/api.mjs'

const require = createRequire(import.meta.url)
const tp = require('../dist/trust-proxy.js')

/** The header fields of one request, as the walk reads them (all occurrences joined). */
const fields = (h) => ({ _field: (name) => h[name] })
const walk = (trust, peer, h = {}, header) =>
  tp.resolveForwarded(tp.compileTrustProxy(trust, header), peer, h.host ?? '', fields(h))

t.test('compileTrustProxy: off, on, and every invalid form throws SALVO_ERR_INVALID_ARG', async (t) => {
  t.equal(tp.compileTrustProxy(undefined), null)
  t.equal(tp.compileTrustProxy(false), null)
  t.equal(tp.compileTrustProxy(0), null)
  t.equal(tp.compileTrustProxy([]), null)
  t.ok(tp.compileTrustProxy(true).trust('1.2.3.4', 7))
  const fn = () => true
  t.equal(tp.compileTrustProxy(fn).trust, fn)
  t.equal(tp.compileTrustProxy(true).header, 'x-forwarded')
  t.equal(tp.compileTrustProxy(true, 'forwarded').header, 'forwarded')
  for (const bad of [null, 1.5, -1, 2 ** 31, NaN, {}, Symbol('x'), '', ' , ', ['10.0.0.0/33'], ['10.0.0.1/'],
    ['::1/129'], ['300.1.1.1'], ['1.2.3'], ['01.2.3.4'], ['10.0.0.0/255.0.255.0'], ['fe80::1::2'],
    ['localhost'], [42], ['10.0.0.0/8', 'nope'], 'loopback, 1.2.3.x']) {
    throwsCode(t, () => tp.compileTrustProxy(bad), 'SALVO_ERR_INVALID_ARG', `trustProxy ${String(typeof bad === 'symbol' ? 'symbol' : JSON.stringify(bad))}`)
  }
  throwsCode(t, () => tp.compileTrustProxy(true, 'x-forwarded-for'), 'SALVO_ERR_INVALID_ARG', 'proxyHeader')
  const { App } = salvo()
  throwsCode(t, () => new App({ trustProxy: 'nonsense' }), 'SALVO_ERR_INVALID_ARG', 'new App: bad trustProxy')
  throwsCode(t, () => new App({ trustProxy: true, proxyHeader: 'both' }), 'SALVO_ERR_INVALID_ARG', 'new App: bad proxyHeader')
  throwsCode(t, () => new App({ trustproxy: true }), 'SALVO_ERR_INVALID_ARG', 'new App: misspelt key')
  t.doesNotThrow(() => new App({ trustProxy: ['loopback', '10.0.0.0/8', 'fd00::/8'], proxyHeader: 'forwarded' }))
})

t.test('list predicates: CIDR v4 (bits and netmask), v6, IPv4-mapped IPv6, names', async (t) => {
  const m = (list, addr) => tp.compileTrustProxy(list).trust(addr, 0)
  t.ok(m(['10.0.0.0/8'], '10.255.1.2'))
  t.notOk(m(['10.0.0.0/8'], '11.0.0.1'))
  t.ok(m(['10.0.0.0/255.0.0.0'], '10.9.9.9'), 'netmask form')
  t.notOk(m(['10.0.0.0/255.255.255.0'], '10.0.1.1'))
  t.ok(m(['172.16.0.0/12'], '172.31.255.255'))
  t.notOk(m(['172.16.0.0/12'], '172.32.0.0'))
  t.ok(m(['127.0.0.1'], '127.0.0.1'), 'single address')
  t.notOk(m(['127.0.0.1'], '127.0.0.2'))
  t.ok(m(['127.0.0.1'], '::ffff:127.0.0.1'), 'IPv4-mapped IPv6 peer matches a v4 entry')
  t.ok(m(['::ffff:127.0.0.1'], '127.0.0.1'), 'a mapped entry matches the v4 address')
  t.ok(m(['10.0.0.0/8'], '::ffff:a00:1'), 'mapped in hex groups')
  t.ok(m(['::1'], '::1'))
  t.ok(m(['::1'], '0:0:0:0:0:0:0:1'), 'uncompressed form')
  t.notOk(m(['::1'], '::2'))
  t.ok(m(['2001:db8::/32'], '2001:db8:ffff::1'))
  t.notOk(m(['2001:db8::/32'], '2001:db9::1'))
  t.ok(m(['fe80::/10'], 'fe80::1%eth0'), 'a zone id does not hide the address')
  t.ok(m(['0.0.0.0/0'], '8.8.8.8'))
  t.notOk(m(['0.0.0.0/0'], '2001:db8::1'), 'a v4 range does not cover real v6 addresses')
  t.ok(m('loopback', '127.3.4.5'))
  t.ok(m('loopback', '::1'))
  t.ok(m('uniquelocal, 1.2.3.4', '192.168.1.1'), 'comma-separated string')
  t.ok(m('uniquelocal, 1.2.3.4', '1.2.3.4'))
  t.ok(m(['linklocal'], '169.254.1.1'))
  t.notOk(m(['loopback'], 'garbage'), 'not an address: untrusted')
  t.notOk(m(['loopback'], ''), 'a closed connection\'s empty peer: untrusted')
})

t.test('the walk: X-Forwarded-For from the socket peer outward (proxy-addr semantics)', async (t) => {
  const xff = { 'x-forwarded-for': '203.0.113.9, 10.0.0.2, 10.0.0.1', host: 'svc:8080' }
  let r = walk(['127.0.0.1', '10.0.0.0/8'], '127.0.0.1', xff)
  t.equal(r.ip, '203.0.113.9', 'first untrusted hop is the client')
  t.same(r.ips, ['127.0.0.1', '10.0.0.1', '10.0.0.2', '203.0.113.9'])
  r = walk(['127.0.0.1', '10.0.0.1'], '127.0.0.1', xff)
  t.equal(r.ip, '10.0.0.2', 'stops at 10.0.0.2, the first untrusted; 203.0.113.9 is never believed')
  t.same(r.ips, ['127.0.0.1', '10.0.0.1', '10.0.0.2'])
  t.equal(walk(1, '127.0.0.1', xff).ip, '10.0.0.1', 'hop count 1: only the peer is trusted')
  t.equal(walk(2, '127.0.0.1', xff).ip, '10.0.0.2')
  t.equal(walk(3, '127.0.0.1', xff).ip, '203.0.113.9')
  t.equal(walk(10, '127.0.0.1', xff).ip, '203.0.113.9', 'more hops than entries: the farthest')
  t.equal(walk(true, '127.0.0.1', xff).ip, '203.0.113.9')
  r = walk(['10.0.0.0/8'], '127.0.0.1', { ...xff, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil' })
  t.same(r, { ip: '127.0.0.1', ips: ['127.0.0.1'], protocol: 'http', host: 'svc:8080' }, 'untrusted peer: all headers ignored')
  r = walk(['127.0.0.1'], '127.0.0.1', { host: 'a' })
  t.same(r, { ip: '127.0.0.1', ips: ['127.0.0.1'], protocol: 'http', host: 'a' }, 'trusted peer without headers')
  const seen = []
  walk((a, i) => { seen.push([a, i]); return a !== '10.0.0.2' }, '127.0.0.1', xff)
  t.same(seen, [['127.0.0.1', 0], ['10.0.0.1', 1], ['10.0.0.2', 2]], 'a predicate gets (addr, hop) up to the first untrusted')
  t.equal(walk(['127.0.0.1'], '::ffff:127.0.0.1', { 'x-forwarded-for': '198.51.100.7' }).ip, '198.51.100.7', 'mapped peer')
  t.equal(walk(['::1'], '::1', { 'x-forwarded-for': '2001:db8::5' }).ip, '2001:db8::5', 'v6 peer, v6 client')
  t.equal(walk(true, '127.0.0.1', { 'x-forwarded-for': '[2001:db8::5]:4711' }).ip, '2001:db8::5', 'bracketed v6 with a port')
  t.equal(walk(true, '127.0.0.1', { 'x-forwarded-for': '198.51.100.7:4711' }).ip, '198.51.100.7', 'v4 with a port')
  t.equal(walk(true, '127.0.0.1', { 'x-forwarded-for': ' 198.51.100.7 ,, 10.0.0.1 ' }).ip, '198.51.100.7', 'blanks and empty entries')
})

t.test('X-Forwarded-Proto / -Host: from a trusted peer only; the entry beside the client when all appended', async (t) => {
  let r = walk(['127.0.0.1'], '127.0.0.1', { 'x-forwarded-for': '1.1.1.1', 'x-forwarded-proto': 'HTTPS', 'x-forwarded-host': 'example.com:8443', host: 'up' })
  t.equal(r.protocol, 'https')
  t.equal(r.host, 'example.com:8443')
  r = walk(['127.0.0.1'], '127.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com' })
  t.equal(r.protocol, 'https', 'without X-Forwarded-For the trusted peer still says the scheme')
  t.equal(r.ip, '127.0.0.1')
  // overwritten by the nearest proxy: one entry (the last is the trusted one's)
  r = walk(['127.0.0.1'], '127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 1.1.1.1', 'x-forwarded-proto': 'https, http, http' })
  t.equal(r.protocol, 'http', 'entry counts differ: the last entry (nearest proxy)')
  // every proxy appended: aligned with X-Forwarded-For
  r = walk(['127.0.0.1', '10.0.0.1'], '127.0.0.1', {
    'x-forwarded-for': '6.6.6.6, 1.1.1.1, 10.0.0.1', 'x-forwarded-proto': 'http, https, http', 'x-forwarded-host': 'fake, example.com, inner'
  })
  t.equal(r.ip, '1.1.1.1')
  t.equal(r.protocol, 'https', 'the proto the client used, as the proxy that met it wrote')
  t.equal(r.host, 'example.com')
  r = walk(['127.0.0.1'], '127.0.0.1', { 'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'a b', host: 'h' })
  t.equal(r.protocol, 'http', 'an unknown scheme is ignored')
  t.equal(r.host, 'h', 'a host that is not host[:port] is ignored')
  t.equal(walk(true, '127.0.0.1', { 'x-forwarded-host': '[::1]:80' }).host, '[::1]:80')
  t.equal(walk(true, '127.0.0.1', { 'x-forwarded-host': '[nope]:80', host: 'h' }).host, 'h')
})

t.test('parseForwarded (RFC 7239 section 4)', async (t) => {
  t.same(tp.parseForwarded('for=192.0.2.60;proto=http;by=203.0.113.43'), [{ for: '192.0.2.60', proto: 'http' }])
  t.same(tp.parseForwarded('for="[2001:db8:cafe::17]:4711"'), [{ for: '[2001:db8:cafe::17]:4711' }])
  t.same(tp.parseForwarded('for=192.0.2.43, for=198.51.100.17;host="a,b"'), [{ for: '192.0.2.43' }, { for: '198.51.100.17', host: 'a,b' }], 'a comma inside quotes')
  t.same(tp.parseForwarded('For="\\"x\\"" ; PROTO=https'), [{ for: '"x"', proto: 'https' }], 'escapes, case-insensitive names, spaces')
  t.same(tp.parseForwarded(' , for=1.2.3.4 ,, '), [{ for: '1.2.3.4' }], 'empty list elements')
  t.same(tp.parseForwarded(''), [])
  for (const bad of ['for', 'for=', 'for="1.2.3.4', 'for=1.2.3.4;for=5.6.7.8', 'for=[::1]', 'for=a b', '=x', 'for="x"y', 'for=1.2.3.4;;proto=http"']) {
    t.equal(tp.parseForwarded(bad), null, `malformed: ${JSON.stringify(bad)}`)
  }
})

t.test('the walk over Forwarded (proxyHeader: forwarded)', async (t) => {
  const h = { forwarded: 'for=198.51.100.17;proto=https;host=example.com, for="[2001:db8::1]";proto=http;host=inner', host: 'up' }
  let r = walk(['127.0.0.1'], '127.0.0.1', h, 'forwarded')
  t.same(r, { ip: '2001:db8::1', ips: ['127.0.0.1', '2001:db8::1'], protocol: 'http', host: 'inner' })
  r = walk(['127.0.0.1', '2001:db8::/32'], '127.0.0.1', h, 'forwarded')
  t.same(r, { ip: '198.51.100.17', ips: ['127.0.0.1', '2001:db8::1', '198.51.100.17'], protocol: 'https', host: 'example.com' },
    'the client\'s element gives its proto and host')
  r = walk(['127.0.0.1'], '127.0.0.1', { ...h, 'x-forwarded-for': '9.9.9.9' }, 'forwarded')
  t.equal(r.ip, '2001:db8::1', 'X-Forwarded-For is not read in forwarded mode')
  r = walk(['127.0.0.1'], '127.0.0.1', { ...h, 'x-forwarded-for': '9.9.9.9' })
  t.equal(r.ip, '9.9.9.9', 'Forwarded is not read in x-forwarded mode (a client could set it through nginx)')
  r = walk(['127.0.0.1'], '127.0.0.1', { forwarded: 'for=1.2.3.4;proto=https;for=5.5.5.5', host: 'up' }, 'forwarded')
  t.same(r, { ip: '127.0.0.1', ips: ['127.0.0.1'], protocol: 'http', host: 'up' }, 'malformed: the socket peer')
  r = walk(['127.0.0.1'], '127.0.0.1', { forwarded: 'for=unknown;proto=https', host: 'up' }, 'forwarded')
  t.equal(r.ip, '127.0.0.1', '"unknown" node: the socket peer')
  r = walk(['127.0.0.1'], '127.0.0.1', { forwarded: 'for=_hidden, for=10.0.0.1' }, 'forwarded')
  t.equal(r.ip, '10.0.0.1', 'an obfuscated node beyond the first untrusted hop is never looked at')
  r = walk(true, '127.0.0.1', { forwarded: 'for=_hidden, for=10.0.0.1' }, 'forwarded')
  t.equal(r.ip, '127.0.0.1', 'an obfuscated node in the walked part: the socket peer')
  r = walk(['127.0.0.1'], '127.0.0.1', { forwarded: 'proto=https' }, 'forwarded')
  t.equal(r.ip, '127.0.0.1', 'an element without for=')
})

t.test('garbage in X-Forwarded-* / Forwarded never throws and never becomes req.ip', async (t) => {
  // a deterministic generator: a bad header must be harmless for every seed
  let seed = 12345
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  const alphabet = 'abcf0123456789.:[]%;=,"\\ \t_-/xX\u00ff'
  const str = () => { let s = ''; const n = rnd(40); for (let i = 0; i < n; i++) s += alphabet[rnd(alphabet.length)]; return s }
  let bad = 0
  for (let i = 0; i < 3000; i++) {
    const h = { 'x-forwarded-for': str(), 'x-forwarded-proto': str(), 'x-forwarded-host': str(), forwarded: str(), host: 'h' }
    for (const header of ['x-forwarded', 'forwarded']) {
      let r
      try {
        r = walk(true, '127.0.0.1', h, header)
      } catch (err) {
        bad++
        t.fail(`threw for ${JSON.stringify(h)}: ${err.message}`)
        continue
      }
      if (tp.parseIp(r.ip) === null) { bad++; t.fail(`ip ${JSON.stringify(r.ip)} is not an address (${JSON.stringify(h)})`) }
      if (r.protocol !== 'http' && r.protocol !== 'https') { bad++; t.fail(`protocol ${r.protocol}`) }
      if (/[\s,]/.test(r.host)) { bad++; t.fail(`host ${JSON.stringify(r.host)}`) }
    }
  }
  t.equal(bad, 0, '6000 random header sets: no throw, ip an address, protocol http|https, host a host')
  t.equal(walk(['127.0.0.1'], '127.0.0.1', { 'x-forwarded-for': 'garbage, 1.2.3.4' }).ip, '1.2.3.4', 'garbage beyond the client (an untrusted writer): never looked at')
  t.equal(walk(true, '127.0.0.1', { 'x-forwarded-for': 'garbage, 1.2.3.4' }).ip, '127.0.0.1', 'garbage in the walked part: the socket peer')
  t.equal(walk(['127.0.0.1'], '127.0.0.1', { 'x-forwarded-for': '1.2.3.4, garbage' }).ip, '127.0.0.1', 'garbage reported by the trusted peer: the peer')
})

// ---------------------------------------------------------------------------
// Through the app: inject() and a real socket (the peer is 127.0.0.1 in both).

const view = (req) => ({ ip: req.ip, ips: req.ips, protocol: req.protocol, host: req.host, hostname: req.hostname })
const routes = (app) => { app.get('/v', view) }

forBoth(t, 'without trustProxy the headers are ignored', { setup: routes }, async (t, { request }) => {
  const r = await request({ url: '/v', headers: { host: 'h.example:81', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil', forwarded: 'for=5.6.7.8' } })
  t.same(r.json(), { ip: '127.0.0.1', ips: ['127.0.0.1'], protocol: 'http', host: 'h.example:81', hostname: 'h.example' })
})

forBoth(t, 'trustProxy: [127.0.0.1]: the client from X-Forwarded-For', { options: { trustProxy: ['127.0.0.1'] }, setup: routes }, async (t, { request }) => {
  let r = await request({ url: '/v', headers: { host: 'up:3000', 'x-forwarded-for': '6.6.6.6, 203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' } })
  t.same(r.json(), { ip: '203.0.113.5', ips: ['127.0.0.1', '203.0.113.5'], protocol: 'https', host: 'shop.example', hostname: 'shop.example' })
  // a field split over two lines is one list (RFC 9110 5.3)
  r = await request({ url: '/v', headers: { 'X-Forwarded-For': ['6.6.6.6', '203.0.113.6'] } })
  t.equal(r.json().ip, '203.0.113.6')
  r = await request({ url: '/v', headers: { 'x-forwarded-for': 'not-an-ip' } })
  t.equal(r.statusCode, 200, 'garbage is not an error')
  t.equal(r.json().ip, '127.0.0.1')
  r = await request({ url: '/v', headers: { host: '[::1]:8080' } })
  t.equal(r.json().hostname, '[::1]')
})

forBoth(t, 'trustProxy that does not cover 127.0.0.1: headers ignored', { options: { trustProxy: '10.0.0.0/8' }, setup: routes }, async (t, { request }) => {
  const r = await request({ url: '/v', headers: { host: 'h', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https' } })
  t.same(r.json(), { ip: '127.0.0.1', ips: ['127.0.0.1'], protocol: 'http', host: 'h', hostname: 'h' })
})

forBoth(t, 'proxyHeader: forwarded', { options: { trustProxy: 1, proxyHeader: 'forwarded' }, setup: routes }, async (t, { request }) => {
  const r = await request({ url: '/v', headers: { host: 'up', forwarded: 'for="[2001:db8::7]:1234";proto=https;host="api.example:8443"', 'x-forwarded-for': '9.9.9.9' } })
  t.same(r.json(), { ip: '2001:db8::7', ips: ['127.0.0.1', '2001:db8::7'], protocol: 'https', host: 'api.example:8443', hostname: 'api.example' })
})

t.test('lazy: no walk unless a getter is read; one walk per request however often it is read', async (t) => {
  const { App } = salvo()
  let calls = 0
  const app = new App({ trustProxy: (addr, hop) => { calls++; return hop === 0 } })
  app.get('/none', () => 'x')
  app.get('/twice', (req) => `${req.ip} ${req.ip} ${req.protocol} ${req.host} ${req.ips.length}`)
  const { port, server } = await (async () => {
    const s = await app.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => s.close({ timeout: 500 }))
    return { port: s.port, server: s }
  })()
  t.ok(server)
  const headers = { 'x-forwarded-for': '1.2.3.4' }
  await socketRequest(port, { url: '/none', headers })
  await app.inject({ url: '/none', headers })
  t.equal(calls, 0, 'the predicate never ran for requests that did not read ip/protocol/host')
  const r = await socketRequest(port, { url: '/twice', headers: { ...headers, host: 'h' } })
  t.equal(r.body, '1.2.3.4 1.2.3.4 http h 2')
  t.equal(calls, 2, 'one walk: the peer (hop 0) and 1.2.3.4 (hop 1), cached for the other reads')
})

t.test('an async handler reads them after awaiting (the request keeps its own bytes)', async (t) => {
  const { port } = await listenApp(t, {
    options: { trustProxy: 'loopback' },
    setup: (app) => app.get('/late', async (req) => { await new Promise((resolve) => setTimeout(resolve, 20)); return view(req) })
  })
  const r = await socketRequest(port, { url: '/late', headers: { host: 'h', 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': 'https' } })
  t.same(r.json(), { ip: '192.0.2.1', ips: ['127.0.0.1', '192.0.2.1'], protocol: 'https', host: 'h', hostname: 'h' })
})
