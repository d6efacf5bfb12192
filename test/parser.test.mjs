// The request-head parser (native/parser.cc) through the addon, on both
// implementations: results (> 0 bytes consumed, -1 malformed, -2 incomplete,
// -3 too many fields) and the parsed fields.  The byte-level edge cases, the
// guard-page over-read checks and the sanitizer runs are in native/test;
// this checks the same contract end to end and that scalar and sse42 agree.
import t from 'tap'
import { createRequire } from 'node:module'

const addon = createRequire(import.meta.url)('../build/Release/salvo.node')

const HAS_SSE42 = addon.cpuHasSse42()
const IMPLS = [
  { impl: 'scalar', skip: false },
  { impl: 'sse42', skip: HAS_SSE42 ? false : 'this CPU has no SSE4.2' },
]
const CAPACITY = 64 // parseRequest parses with room for 64 fields

const parse = (impl, input) =>
  addon.parseRequest(typeof input === 'string' ? Buffer.from(input, 'latin1') : input, impl)

const SMALL_GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'

// The same realistic heads the parser micro-benchmark measures.
const { BROWSER_GET, POST_HEAD: POST } = createRequire(import.meta.url)('../bench/requests.js')

const manyHeaders = (n) => {
  let s = 'GET /many HTTP/1.1\r\n'
  for (let i = 0; i < n; i++) s += `X-Header-${i}: value-${i}\r\n`
  return s + '\r\n'
}

// [name, input, expected { method, target, major, minor, headers }, consumed?]
const VALID = [
  ['small GET', SMALL_GET, { method: 'GET', target: '/', major: 1, minor: 1, headers: [['Host', 'localhost']] }],
  ['no fields', 'GET / HTTP/1.0\r\n\r\n', { method: 'GET', target: '/', major: 1, minor: 0, headers: [] }],
  ['browser-like GET', BROWSER_GET, {
    method: 'GET',
    target: '/articles/2024/http-parsing?lang=en&ref=home',
    major: 1,
    minor: 1,
    headers: BROWSER_GET.split('\r\n').slice(1, -2).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
  }],
  ['POST head, body not consumed', POST + '{"name":"a","count":12345}', {
    method: 'POST',
    target: '/api/v1/items',
    major: 1,
    minor: 1,
    headers: [['Host', 'api.example.com'], ['Content-Type', 'application/json; charset=utf-8'], ['Content-Length', '27']],
  }, POST.length],
  ['pipelined: the first head only', SMALL_GET + SMALL_GET, {
    method: 'GET', target: '/', major: 1, minor: 1, headers: [['Host', 'localhost']],
  }, SMALL_GET.length],
  ['OWS trimmed, empty values, tabs inside',
    'GET / HTTP/1.1\r\nA: \t padded \t\r\nB:\r\nC: \t \r\nD:x\tand\ty\r\n\r\n', {
      method: 'GET', target: '/', major: 1, minor: 1,
      headers: [['A', 'padded'], ['B', ''], ['C', ''], ['D', 'x\tand\ty']],
    }],
  ['obs-text in target and a long value (UTF-8 bytes)',
    Buffer.from('GET /caf\u00e9 HTTP/1.1\r\nX-Name: Ren\u00e9, a value longer than sixteen bytes \u20ac\r\n\r\n', 'utf8'), {
      method: 'GET', target: '/caf\u00e9', major: 1, minor: 1,
      headers: [['X-Name', 'Ren\u00e9, a value longer than sixteen bytes \u20ac']],
    }],
  ['every tchar in method and names (| and ~ too)',
    "!#$%&'*+-.^_`|~09azAZ * HTTP/1.1\r\n|~|~|~|~|~|~|~|~|~|~|~: v\r\nX-Long-Name-With|Pipe~Tilde: w\r\n\r\n", {
      method: "!#$%&'*+-.^_`|~09azAZ", target: '*', major: 1, minor: 1,
      headers: [['|~|~|~|~|~|~|~|~|~|~|~', 'v'], ['X-Long-Name-With|Pipe~Tilde', 'w']],
    }],
  ['other version digits are reported', 'GET / HTTP/2.7\r\n\r\n', { method: 'GET', target: '/', major: 2, minor: 7, headers: [] }],
  ['64 fields fill the capacity', manyHeaders(64), {
    method: 'GET', target: '/many', major: 1, minor: 1,
    headers: Array.from({ length: 64 }, (_, i) => [`X-Header-${i}`, `value-${i}`]),
  }],
]

const line = 'GET / HTTP/1.1\r\n'
const INVALID = [
  ['bare LF after the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
  ['bare LF after a field', line + 'Host: a\n\r\n'],
  ['bare LF ending the head', line + 'Host: a\r\n\n'],
  ['CR not followed by LF', line + 'Host: a\rb\r\n\r\n'],
  ['leading empty line', '\r\n' + SMALL_GET],
  ['obs-fold (SP)', line + 'X: a\r\n b\r\n\r\n'],
  ['obs-fold (HTAB)', line + 'X: a\r\n\tb\r\n\r\n'],
  ['space before the colon', line + 'Host : a\r\n\r\n'],
  ['empty field name', line + ': a\r\n\r\n'],
  ['no colon', line + 'Host\r\n\r\n'],
  ['non-tchar in a name', line + 'X-Na(me: a\r\n\r\n'],
  ['non-tchar in a long name', line + 'X-A-Rather-Long-Na{me: a\r\n\r\n'],
  ['obs-text in a name', line + 'X-Na\u00ffme: a\r\n\r\n'],
  ['non-tchar in the method', 'GE@T / HTTP/1.1\r\n\r\n'],
  ['empty method', ' / HTTP/1.1\r\n\r\n'],
  ['two spaces after the method', 'GET  / HTTP/1.1\r\n\r\n'],
  ['two spaces after the target', 'GET /  HTTP/1.1\r\n\r\n'],
  ['HTAB in the target', 'GET /a\tb HTTP/1.1\r\n\r\n'],
  ['DEL in the target', 'GET /a\x7fb HTTP/1.1\r\n\r\n'],
  ['NUL in a long target', 'GET /a-rather-long-path\x00b HTTP/1.1\r\n\r\n'],
  ['lowercase version', 'GET / http/1.1\r\n\r\n'],
  ['two-digit version', 'GET / HTTP/1.10\r\n\r\n'],
  ['version without minor', 'GET / HTTP/1\r\n\r\n'],
  ['no version', 'GET /\r\n\r\n'],
  ['NUL in a value', line + 'X: a\x00b\r\n\r\n'],
  ['DEL in a value', line + 'X: a\x7fb\r\n\r\n'],
  ['CTL in a long value', line + 'X: a value longer than sixteen bytes \x01 here\r\n\r\n'],
  ['LF inside a value', line + 'X: a\nb\r\n\r\n'],
  ['an error before the head is complete', 'GET / HTTP/1.1\r\nHost : '],
]

for (const { impl, skip } of IMPLS) {
  t.test(`${impl}: valid requests`, { skip }, async (t) => {
    for (const [name, input, want, consumed] of VALID) {
      const got = parse(impl, input)
      const len = typeof input === 'string' ? input.length : input.length
      t.equal(got.result, consumed ?? len, `${name}: bytes consumed`)
      t.same(
        { method: got.method, target: got.target, major: got.major, minor: got.minor, headers: got.headers },
        want,
        `${name}: fields`,
      )
    }
  })

  t.test(`${impl}: every strict prefix of a valid head is incomplete (-2)`, { skip }, async (t) => {
    for (const [name, input, , consumed] of VALID) {
      const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input
      const end = consumed ?? buf.length
      let bad = []
      for (let k = 0; k < end; k++) {
        const r = parse(impl, buf.subarray(0, k)).result
        if (r !== -2) bad.push(`${k}: ${r}`)
      }
      t.same(bad, [], `${name}: all ${end} prefixes give -2`)
    }
  })

  t.test(`${impl}: malformed requests (-1)`, { skip }, async (t) => {
    for (const [name, input] of INVALID) t.equal(parse(impl, input).result, -1, name)
  })

  t.test(`${impl}: more fields than the capacity (-3)`, { skip }, async (t) => {
    t.equal(parse(impl, manyHeaders(CAPACITY + 1)).result, -3, `${CAPACITY + 1} fields`)
    t.equal(parse(impl, manyHeaders(200)).result, -3, '200 fields')
    // Known as soon as the extra field's first byte is there.
    const head = manyHeaders(CAPACITY + 1)
    const cut = head.slice(0, head.indexOf(`X-Header-${CAPACITY}:`) + 1)
    t.equal(parse(impl, cut).result, -3, 'before the rest of the head arrives')
  })
}

// A small fixed-seed PRNG (mulberry32), so that failures reproduce.
const rng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}

t.test('scalar and sse42 agree on mutated requests', { skip: IMPLS[1].skip }, async (t) => {
  const random = rng(20240601)
  const seeds = [SMALL_GET, BROWSER_GET, POST, manyHeaders(70)].map((s) => Buffer.from(s, 'latin1'))
  const special = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x7c, 0x7e, 0x7b, 0x7f, 0x80, 0xff, 0x41]
  const counts = { complete: 0, '-1': 0, '-2': 0, '-3': 0 }
  const mismatches = []
  const N = 3000
  for (let i = 0; i < N; i++) {
    let buf = Buffer.from(seeds[Math.floor(random() * seeds.length)])
    const ops = 1 + Math.floor(random() * 3)
    for (let o = 0; o < ops && buf.length > 0; o++) {
      const pos = Math.floor(random() * buf.length)
      const byte = random() < 0.3 ? Math.floor(random() * 256) : special[Math.floor(random() * special.length)]
      const op = Math.floor(random() * 4)
      if (op === 0) buf[pos] = byte
      else if (op === 1) buf = Buffer.concat([buf.subarray(0, pos), Buffer.from([byte]), buf.subarray(pos)])
      else if (op === 2) buf = Buffer.concat([buf.subarray(0, pos), buf.subarray(pos + 1)])
      else buf = buf.subarray(0, pos)
    }
    const a = parse('scalar', buf)
    const b = parse('sse42', buf)
    if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ input: buf.toString('latin1'), scalar: a, sse42: b })
    counts[a.result > 0 ? 'complete' : String(a.result)]++
  }
  t.same(mismatches.slice(0, 5), [], `no mismatches in ${N} inputs`)
  t.ok(counts.complete > 100 && counts['-1'] > 100 && counts['-2'] > 100 && counts['-3'] > 10,
    `the inputs reach every result: ${JSON.stringify(counts)}`)
})
