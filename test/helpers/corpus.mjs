// A deterministic corpus of HTTP/1.1 request byte strings for the differential
// test (test/differential.test.mjs): valid requests and pipelined sequences,
// and mutations of them.  Everything is derived from a seeded PRNG, so a seed
// and an index name one input forever:
//
//   const inputs = corpus({ seed: 1, valid: 1500, mutated: 3000 })
//   // -> [{ id: 'e3' | 'v17' | 'm203', kind: 'edge' | 'valid' | 'mutated', mutations: [names], bytes: Buffer }]
//
// The hand-written EDGE_CASES come first in every corpus, whatever the seed.
// Valid requests: methods (standard and extension ones), request targets
// (origin-form with queries and percent-encoding, absolute-form, asterisk-form
// for OPTIONS, authority-form for CONNECT), HTTP/1.0 and 1.1, header sets
// (Host, common browser fields, random token names and values with OWS and
// obs-text), Connection variants, Content-Length bodies with arbitrary bytes,
// chunked bodies with chunk extensions and trailer fields, pipelined sequences
// of up to four requests, and inputs cut short at a random byte.
//
// Mutations come in two kinds: structural ones that edit a request before it
// is serialized (duplicated header lines, CL+TE, obs-fold, bare LF or bare CR
// line ends, huge numbers, header-name case changes, whitespace before the
// colon, Content-Length lists, Transfer-Encoding codings, odd versions and
// methods, ...), and byte-level ones on the serialized input (flips,
// insertions of CR/LF/NUL/SP/HTAB/':'/',', deletions, duplications).

// ---------------------------------------------------------------------------
// PRNG: mulberry32, a 32-bit state that is enough for test data and is the
// same on every platform and Node version.

export function makeRng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0)
  }
  const r = {
    next,
    /** integer in [0, n) */
    int: (n) => Math.floor((next() / 4294967296) * n),
    /** integer in [lo, hi] */
    range: (lo, hi) => lo + r.int(hi - lo + 1),
    chance: (p) => next() / 4294967296 < p,
    pick: (arr) => arr[r.int(arr.length)],
    /** pick from [[weight, value], ...] */
    weighted: (pairs) => {
      let total = 0
      for (const [w] of pairs) total += w
      let x = r.int(total)
      for (const [w, v] of pairs) {
        if (x < w) return v
        x -= w
      }
      return pairs[pairs.length - 1][1]
    },
    string: (alphabet, min, max) => {
      const n = r.range(min, max)
      let s = ''
      for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)]
      return s
    },
    bytes: (n) => {
      const b = Buffer.alloc(n)
      for (let i = 0; i < n; i++) b[i] = r.int(256)
      return b
    }
  }
  return r
}

// ---------------------------------------------------------------------------
// Alphabets (RFC 9110 5.6.2 tchar, RFC 3986 pchar, RFC 9110 5.5 field-vchar).

const DIGIT = '0123456789'
const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
export const TCHAR = "!#$%&'*+-.^_`|~" + DIGIT + ALPHA
const UNRESERVED = ALPHA + DIGIT + '-._~'
const SUBDELIMS = "!$&'()*+,;="
const PCHAR = UNRESERVED + SUBDELIMS + ':@'
const VCHAR = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('')
const OBS_TEXT = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)).join('')
const HEX = '0123456789abcdef'

// Methods llhttp knows (it refuses any other token) plus the common ones.
const METHODS = [
  [30, 'GET'], [20, 'POST'], [6, 'PUT'], [5, 'DELETE'], [5, 'HEAD'], [5, 'PATCH'],
  [4, 'OPTIONS'], [1, 'TRACE'], [1, 'PROPFIND'], [1, 'MKCOL'], [1, 'REPORT'],
  [1, 'PURGE'], [1, 'M-SEARCH'], [1, 'LINK'], [1, 'SEARCH'], [1, 'QUERY'], [1, 'CONNECT']
]
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'QUERY', 'PROPFIND', 'REPORT'])

const COMMON_FIELDS = [
  ['User-Agent', () => 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'],
  ['Accept', () => 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Encoding', () => 'gzip, deflate, br'],
  ['Accept-Language', () => 'en-US,en;q=0.9'],
  ['Cache-Control', () => 'no-cache'],
  ['Cookie', (r) => `session=${r.string(HEX, 8, 32)}; theme=dark`],
  ['X-Request-Id', (r) => r.string(HEX, 8, 36)],
  ['Content-Type', () => 'application/json; charset=utf-8'],
  ['Authorization', (r) => `Bearer ${r.string(ALPHA + DIGIT + '-._~+/', 10, 40)}=`],
  ['If-None-Match', (r) => `"${r.string(HEX, 4, 16)}"`],
  ['Referer', (r) => `https://example.com/${r.string(PCHAR, 0, 20)}`]
]

// ---------------------------------------------------------------------------
// The request model and its serializer.

/**
 * A request before serialization.  Every line end is its own field so that
 * mutations can change one of them; `raw` entries in headers are written as is.
 */
function newRequest () {
  return {
    method: 'GET',
    sp1: ' ',
    target: '/',
    sp2: ' ',
    version: 'HTTP/1.1',
    lineEnd: '\r\n',
    leading: '', // bytes before the request line
    headers: [], // { name, colon: ':', ows: ' ', value, after: '', eol: '\r\n' }
    headEnd: '\r\n',
    body: null // { kind: 'raw', data: Buffer } or { kind: 'chunked', chunks, trailers, lastExt, end }
  }
}

const field = (name, value) => ({ name, colon: ':', ows: ' ', value, after: '', eol: '\r\n' })

function serialize (req) {
  const parts = [req.leading, req.method, req.sp1, req.target, req.sp2, req.version, req.lineEnd]
  for (const h of req.headers) parts.push(h.name, h.colon, h.ows, h.value, h.after, h.eol)
  parts.push(req.headEnd)
  const head = Buffer.from(parts.join(''), 'latin1')
  const b = req.body
  if (b === null) return head
  if (b.kind === 'raw') return Buffer.concat([head, b.data])
  const out = [head]
  for (const c of b.chunks) {
    out.push(Buffer.from(`${c.size}${c.ext}${c.eol}`, 'latin1'), c.data, Buffer.from(c.dataEnd, 'latin1'))
  }
  out.push(Buffer.from(`${b.lastSize}${b.lastExt}\r\n`, 'latin1'))
  for (const [n, v] of b.trailers) out.push(Buffer.from(`${n}: ${v}\r\n`, 'latin1'))
  out.push(Buffer.from(b.end, 'latin1'))
  return Buffer.concat(out)
}

const findHeader = (req, lname) => req.headers.findIndex((h) => h.name.toLowerCase() === lname)

// ---------------------------------------------------------------------------
// Valid requests.

function genTarget (r, method) {
  if (method === 'CONNECT') return `${r.pick(['example.com', 'api.example.com', '127.0.0.1'])}:${r.pick([443, 8443, 80])}`
  if (method === 'OPTIONS' && r.chance(0.3)) return '*'
  const kind = r.weighted([[80, 'origin'], [10, 'absolute'], [10, 'root']])
  if (kind === 'root') return '/'
  let path = ''
  const segs = r.range(1, 4)
  for (let i = 0; i < segs; i++) {
    path += '/' + r.string(PCHAR, 0, 12)
    if (r.chance(0.1)) path += '%' + r.pick(['20', '2F', 'e2', '41', 'ff'])
  }
  if (r.chance(0.4)) {
    const n = r.range(1, 3)
    const q = []
    for (let i = 0; i < n; i++) q.push(`${r.string(UNRESERVED, 1, 6)}=${r.string(PCHAR + '/?', 0, 10)}`)
    path += '?' + q.join('&')
  }
  if (kind === 'absolute') return `http://${r.pick(['example.com', 'a.b.c:8080', '127.0.0.1:3000'])}${path}`
  return path
}

function genValue (r) {
  const kind = r.weighted([[60, 'plain'], [20, 'spaces'], [10, 'obs'], [5, 'empty'], [5, 'htab']])
  switch (kind) {
    case 'plain': return r.string(VCHAR, 1, 30)
    case 'spaces': return r.string(VCHAR, 1, 8) + ' ' + r.string(VCHAR, 1, 8) + ' ' + r.string(VCHAR, 1, 8)
    case 'obs': return r.string(VCHAR, 1, 5) + r.string(OBS_TEXT, 1, 4) + r.string(VCHAR, 1, 5)
    case 'empty': return ''
    default: return r.string(VCHAR, 1, 6) + '\t' + r.string(VCHAR, 1, 6)
  }
}

function genChunkExt (r) {
  const kind = r.weighted([[70, ''], [10, 'name'], [10, 'token'], [10, 'quoted']])
  switch (kind) {
    case '': return ''
    case 'name': return ';' + r.string(ALPHA, 1, 6)
    case 'token': return `;${r.string(ALPHA, 1, 6)}=${r.string(TCHAR, 1, 8)}`
    default: return `;${r.string(ALPHA, 1, 6)}="${r.string(ALPHA + DIGIT + ' ', 0, 10)}"`
  }
}

function genChunked (r) {
  const chunks = []
  const n = r.range(0, 4)
  for (let i = 0; i < n; i++) {
    const data = r.bytes(r.range(1, 40))
    let size = data.length.toString(16)
    if (r.chance(0.2)) size = size.toUpperCase()
    if (r.chance(0.1)) size = '0' + size
    chunks.push({ size, ext: genChunkExt(r), eol: '\r\n', data, dataEnd: '\r\n' })
  }
  const trailers = []
  if (r.chance(0.2)) {
    const tn = r.range(1, 2)
    for (let i = 0; i < tn; i++) trailers.push([r.pick(['X-Checksum', 'Server-Timing', 'X-' + r.string(ALPHA, 1, 6)]), r.string(VCHAR, 1, 12)])
  }
  return { kind: 'chunked', chunks, lastSize: r.chance(0.1) ? '000' : '0', lastExt: genChunkExt(r), trailers, end: '\r\n' }
}

/** One valid request model.  `minor` forces the version (1.0 vs 1.1). */
export function genRequest (r, { allowChunked = true } = {}) {
  const req = newRequest()
  req.method = r.weighted(METHODS)
  req.target = genTarget(r, req.method)
  const minor = r.chance(0.2) ? 0 : 1
  req.version = `HTTP/1.${minor}`
  // Host: exactly one in every HTTP/1.1 request (RFC 9112 3.2 makes the server
  // refuse anything else), usually one in 1.0.  Its place among the fields varies.
  const host = minor === 1 || r.chance(0.8)
  const hostField = field(r.pick(['Host', 'Host', 'host', 'HOST']), r.pick(['example.com', '127.0.0.1:8080', 'a.b', '[::1]:3000', 'xn--bcher-kva.example']))
  const nCommon = r.range(0, 5)
  for (let i = 0; i < nCommon; i++) {
    const [name, value] = r.pick(COMMON_FIELDS)
    req.headers.push(field(name, value(r)))
  }
  const nRandom = r.range(0, 3)
  for (let i = 0; i < nRandom; i++) req.headers.push(field('X-' + r.string(TCHAR, 1, 12), genValue(r)))
  if (host) req.headers.splice(r.int(Math.min(2, req.headers.length) + 1), 0, hostField)
  // Optional whitespace around values, SP or HTAB (RFC 9110 5.6.3).
  for (const h of req.headers) {
    if (r.chance(0.1)) h.ows = r.pick(['', '  ', '\t', ' \t'])
    if (r.chance(0.1)) h.after = r.pick([' ', '\t', '  '])
  }
  // Connection
  const conn = minor === 1
    ? r.weighted([[70, null], [15, 'keep-alive'], [10, 'close'], [5, 'Close']])
    : r.weighted([[50, null], [35, 'keep-alive'], [10, 'Keep-Alive'], [5, 'close']])
  if (conn) req.headers.splice(r.int(req.headers.length + 1), 0, field(r.pick(['Connection', 'connection']), conn))
  if (r.chance(0.03)) req.headers.push(field('Expect', '100-continue'))
  // Body
  const wantsBody = BODY_METHODS.has(req.method) ? r.chance(0.9) : r.chance(0.08)
  if (wantsBody) {
    if (allowChunked && minor === 1 && r.chance(0.35)) {
      req.body = genChunked(r)
      req.headers.splice(r.int(req.headers.length + 1), 0, field(r.pick(['Transfer-Encoding', 'transfer-encoding']), 'chunked'))
    } else {
      const data = r.chance(0.1) ? Buffer.alloc(0) : r.bytes(r.range(1, 120))
      req.body = { kind: 'raw', data }
      req.headers.splice(r.int(req.headers.length + 1), 0, field(r.pick(['Content-Length', 'content-length']), String(data.length)))
    }
  }
  return req
}

/** True if the request model ends the connection (salvo and llhttp stop reading after it). */
function closes (req) {
  const c = req.headers.filter((h) => h.name.toLowerCase() === 'connection').map((h) => h.value.toLowerCase())
  if (c.some((v) => v.includes('close'))) return true
  return req.version === 'HTTP/1.0' && !c.some((v) => v.includes('keep-alive'))
}

// ---------------------------------------------------------------------------
// Structural mutations: edit one request model in place.  Each returns false
// when it does not apply to this request (then another is tried).

const STRUCTURAL = {
  duplicateHeaderLine (r, req) {
    if (!req.headers.length) return false
    const i = r.int(req.headers.length)
    req.headers.splice(i + 1, 0, { ...req.headers[i] })
    return true
  },
  duplicateHost (r, req) {
    req.headers.push(field('Host', r.pick(['example.com', 'other.example', ''])))
    return true
  },
  hostOdd (r, req) {
    const v = r.pick(['a b', 'a/b', 'user@a', 'http://a', '[::1', '::1', 'a:b:c', 'a:80x', '%zz', 'caf\xe9', 'a\tb', '*', 'a?b'])
    const i = findHeader(req, 'host')
    if (i >= 0) req.headers[i].value = v
    else req.headers.push(field('Host', v))
    return true
  },
  dropHost (r, req) {
    const i = findHeader(req, 'host')
    if (i < 0) return false
    req.headers.splice(i, 1)
    return true
  },
  clPlusTe (r, req) {
    if (req.body && req.body.kind === 'chunked') {
      req.headers.splice(r.int(req.headers.length + 1), 0, field('Content-Length', String(r.range(0, 30))))
    } else {
      req.headers.splice(r.int(req.headers.length + 1), 0, field('Transfer-Encoding', 'chunked'))
    }
    return true
  },
  obsFold (r, req) {
    if (!req.headers.length) return false
    const h = r.pick(req.headers)
    h.value += `\r\n${r.pick([' ', '\t', '  '])}${r.string(VCHAR, 1, 8)}`
    return true
  },
  bareLfLine (r, req) {
    const k = r.int(req.headers.length + 2)
    if (k === 0) req.lineEnd = '\n'
    else if (k === 1) req.headEnd = '\n'
    else req.headers[k - 2].eol = '\n'
    return true
  },
  bareCrLine (r, req) {
    const k = r.int(req.headers.length + 2)
    if (k === 0) req.lineEnd = '\r'
    else if (k === 1) req.headEnd = '\r'
    else req.headers[k - 2].eol = '\r'
    return true
  },
  crCrLf (r, req) {
    const k = r.int(req.headers.length + 1)
    if (k === 0) req.lineEnd = '\r\r\n'
    else req.headers[k - 1].eol = '\r\r\n'
    return true
  },
  headerNameCase (r, req) {
    if (!req.headers.length) return false
    const h = r.pick(req.headers)
    h.name = r.pick([h.name.toUpperCase(), h.name.toLowerCase(),
      [...h.name].map((c) => (r.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('')])
    return true
  },
  spaceBeforeColon (r, req) {
    if (!req.headers.length) return false
    r.pick(req.headers).name += r.pick([' ', '\t', '  '])
    return true
  },
  emptyHeaderName (r, req) {
    req.headers.splice(r.int(req.headers.length + 1), 0, field('', 'x'))
    return true
  },
  noColon (r, req) {
    if (!req.headers.length) return false
    const h = r.pick(req.headers)
    h.colon = ''
    h.ows = r.pick([' ', ''])
    return true
  },
  badNameChar (r, req) {
    if (!req.headers.length) return false
    const h = r.pick(req.headers)
    const c = r.pick(['"', '(', ')', ',', '/', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', '\x7f', '\x80', '\x00', '\x01'])
    const i = r.int(h.name.length + 1)
    h.name = h.name.slice(0, i) + c + h.name.slice(i)
    return true
  },
  ctlInValue (r, req) {
    if (!req.headers.length) return false
    const h = r.pick(req.headers)
    const c = r.pick(['\x00', '\x01', '\x07', '\x0b', '\x0c', '\x1b', '\x7f', '\r', '\n'])
    const i = r.int(h.value.length + 1)
    h.value = h.value.slice(0, i) + c + h.value.slice(i)
    return true
  },
  leadingEmptyLines (r, req) {
    req.leading = r.pick(['\r\n', '\r\n\r\n', '\n', ' ', '\t'])
    return true
  },
  clList (r, req) {
    if (!req.body || req.body.kind !== 'raw') return false
    const i = findHeader(req, 'content-length')
    const n = req.body.data.length
    req.headers[i].value = r.pick([`${n}, ${n}`, `${n},${n}`, `${n}, ${n + 1}`, `${n} ,${n}`, `${n},`, `,${n}`])
    return true
  },
  clOddForm (r, req) {
    const n = req.body && req.body.kind === 'raw' ? req.body.data.length : 0
    const v = r.pick([`+${n}`, `-${n}`, `0${n}`, `00${n}`, `${n}.0`, `0x${n.toString(16)}`, `${n}a`, ` ${n} `, `${n} ${n}`, '', `\t${n}`])
    const i = findHeader(req, 'content-length')
    if (i >= 0) req.headers[i].value = v
    else req.headers.push(field('Content-Length', v))
    return true
  },
  clDuplicate (r, req) {
    const n = req.body && req.body.kind === 'raw' ? req.body.data.length : 0
    const v = r.chance(0.5) ? n : n + r.range(1, 5)
    req.headers.splice(r.int(req.headers.length + 1), 0, field(r.pick(['Content-Length', 'content-length']), String(v)))
    return true
  },
  hugeContentLength (r, req) {
    const v = r.pick(['99999999999999999999', '18446744073709551616', '9007199254740992', '9007199254740991',
      '4294967296', '1048577', '2147483648', '100000000000000000000000000000'])
    const i = findHeader(req, 'content-length')
    if (i >= 0) req.headers[i].value = v
    else req.headers.push(field('Content-Length', v))
    return true
  },
  hugeChunkSize (r, req) {
    if (!req.body || req.body.kind !== 'chunked') return false
    const size = r.pick(['ffffffffffffffffff', '10000000000000000', 'fffffffffffffff', '100001', '7fffffff', '0000000000000000000001'])
    req.body.chunks.unshift({ size, ext: '', eol: '\r\n', data: Buffer.from('abc'), dataEnd: '\r\n' })
    return true
  },
  teCoding (r, req) {
    const v = r.pick(['gzip, chunked', 'chunked, gzip', 'chunked, chunked', 'identity', 'gzip', ' chunked',
      'Chunked', 'CHUNKED', 'chunked ', 'chunked;q=1', 'chunkedx', 'x-chunked', 'chunked,', ',chunked', 'deflate,chunked'])
    const i = findHeader(req, 'transfer-encoding')
    if (i >= 0) req.headers[i].value = v
    else {
      req.headers.push(field('Transfer-Encoding', v))
      if (!req.body || req.body.kind !== 'chunked') {
        const j = findHeader(req, 'content-length')
        if (j >= 0) req.headers.splice(j, 1)
        req.body = genChunked(r)
      }
    }
    return true
  },
  teDuplicate (r, req) {
    if (!req.body || req.body.kind !== 'chunked') return false
    req.headers.push(field('Transfer-Encoding', r.pick(['chunked', 'gzip', 'identity'])))
    return true
  },
  teOnHttp10 (r, req) {
    if (!req.body || req.body.kind !== 'chunked') return false
    req.version = 'HTTP/1.0'
    return true
  },
  chunkExtOdd (r, req) {
    if (!req.body || req.body.kind !== 'chunked') return false
    const ext = r.pick([' ;a=b', '; a=b', ';a = b', ';a="unterminated', ';a=b c', ';', ';=b', ';a="x\\"y"',
      '\t;a', ';a=', ';a;b;c=d', ';a=\x01', ';a="\x7f"', ' ', '\t'])
    if (req.body.chunks.length && r.chance(0.7)) r.pick(req.body.chunks).ext = ext
    else req.body.lastExt = ext
    return true
  },
  chunkSizeOdd (r, req) {
    if (!req.body || req.body.kind !== 'chunked' || !req.body.chunks.length) return false
    const c = r.pick(req.body.chunks)
    c.size = r.pick([`+${c.size}`, `-${c.size}`, `0x${c.size}`, ` ${c.size}`, `${c.size} `, `${c.size}\t`, '', 'g', `${c.size}z`])
    return true
  },
  chunkDataEnd (r, req) {
    if (!req.body || req.body.kind !== 'chunked' || !req.body.chunks.length) return false
    const c = r.pick(req.body.chunks)
    const v = r.pick(['\n', '\r', '', 'xx', '\r\r\n', ' \r\n'])
    if (v === 'xx') c.dataEnd = v
    else if (r.chance(0.5)) c.dataEnd = v
    else c.eol = v
    return true
  },
  chunkSizeMismatch (r, req) {
    if (!req.body || req.body.kind !== 'chunked' || !req.body.chunks.length) return false
    const c = r.pick(req.body.chunks)
    const n = parseInt(c.size, 16) + r.pick([-1, 1, 2])
    if (n < 0) return false
    c.size = n.toString(16)
    return true
  },
  trailerOdd (r, req) {
    if (!req.body || req.body.kind !== 'chunked') return false
    r.pick([
      () => { req.body.trailers.push([r.string(TCHAR, 1, 6) + ' ', 'x']) },
      () => { req.body.trailers.push(['X-T', 'a\x00b']) },
      () => { req.body.trailers.push(['Content-Length', '5']) },
      () => { req.body.trailers.push(['Transfer-Encoding', 'chunked']) },
      () => { req.body.trailers.push(['Connection', 'close']) },
      () => { req.body.end = '\n' },
      () => { req.body.end = '' },
      () => { req.body.trailers.push(['', 'x']) }
    ])()
    return true
  },
  versionOdd (r, req) {
    req.version = r.pick(['HTTP/1.2', 'HTTP/1.9', 'HTTP/2.0', 'HTTP/3.0', 'HTTP/0.9', 'HTTP/9.9', 'http/1.1',
      'HTTP/1', 'HTTP/1.10', 'HTTP/11', 'HTTP 1.1', 'HTTP/1.1 ', 'HTTP/a.b', 'HTTPS/1.1', '', 'HTTP/01.1'])
    return true
  },
  methodOdd (r, req) {
    req.method = r.pick(['get', 'Get', 'FOO', 'BREW', 'GETX', 'GE', 'G', 'POSTX', 'X-METHOD', '', 'GET/', 'G\x01T',
      'PRI', 'DESCRIBE', 'SOURCE', 'UNLINK', 'ACL', 'MKCALENDAR'])
    return true
  },
  requestLineSpaces (r, req) {
    r.pick([
      () => { req.sp1 = '  ' },
      () => { req.sp2 = '  ' },
      () => { req.sp1 = '\t' },
      () => { req.sp2 = '\t' },
      () => { req.target = '' },
      () => { req.target += ' x' },
      () => { req.sp2 = '' }
    ])()
    return true
  },
  targetOdd (r, req) {
    req.target = r.pick(['*', 'a', 'example.com:443', 'http://example.com', 'https://u@h/p', '//x', '/a#frag',
      '/\x80\xff', '/a\x7fb', '/a\x01b', '/a|b{c}', '/a"b', '/a<b>', '/a\\b', '/%zz', '/?', '/a?b?c', '/a^b`c',
      'HTTP://A/B', 'h:', '/' + 'a'.repeat(3000)])
    return true
  },
  connectionOdd (r, req) {
    const v = r.pick(['close, keep-alive', 'keep-alive, close', 'Upgrade', 'upgrade', 'CLOSE', 'close ', 'xclose', 'closed',
      'keep-alive,close', 'TE, close', 'foo', '', ',,close', 'Keep-Alive'])
    const i = findHeader(req, 'connection')
    if (i >= 0) req.headers[i].value = v
    else req.headers.push(field('Connection', v))
    return true
  },
  upgradeHeader (r, req) {
    req.headers.push(field('Upgrade', r.pick(['websocket', 'h2c', 'foo/1'])))
    req.headers.push(field('Connection', r.pick(['Upgrade', 'upgrade', 'keep-alive, Upgrade'])))
    return true
  },
  expectOdd (r, req) {
    req.headers.push(field('Expect', r.pick(['100-continue', '100-Continue', '100-continue ', 'foo', '', '200-ok', '100-continue, foo'])))
    return true
  },
  manyHeaders (r, req) {
    const n = r.pick([31, 32, 33, 64, 99, 100, 101])
    for (let i = 0; i < n; i++) req.headers.push(field(`X-H${i}`, `v${i}`))
    return true
  },
  longHeader (r, req) {
    req.headers.push(field('X-Long', 'v'.repeat(r.pick([4000, 8000, 16000, 17000]))))
    return true
  }
}

// ---------------------------------------------------------------------------
// Byte-level mutations on the serialized input.

const INSERTABLE = ['\r', '\n', '\0', ' ', '\t', ':', ',', '\r\n', ';', '"', '\x7f', '\x80']

const BYTEWISE = {
  flipByte (r, buf) {
    if (!buf.length) return buf
    const b = Buffer.from(buf)
    const i = r.int(b.length)
    b[i] = r.chance(0.5) ? b[i] ^ (1 << r.int(8)) : r.int(256)
    return b
  },
  insertByte (r, buf) {
    const i = r.int(buf.length + 1)
    return Buffer.concat([buf.subarray(0, i), Buffer.from(r.pick(INSERTABLE), 'latin1'), buf.subarray(i)])
  },
  deleteByte (r, buf) {
    if (!buf.length) return buf
    const i = r.int(buf.length)
    return Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)])
  },
  duplicateRange (r, buf) {
    if (!buf.length) return buf
    const i = r.int(buf.length)
    const j = Math.min(buf.length, i + r.range(1, 20))
    return Buffer.concat([buf.subarray(0, j), buf.subarray(i, j), buf.subarray(j)])
  },
  crlfToLf (r, buf) {
    const s = buf.toString('latin1')
    const at = []
    for (let i = s.indexOf('\r\n'); i >= 0; i = s.indexOf('\r\n', i + 1)) at.push(i)
    if (!at.length) return buf
    const i = r.pick(at)
    return Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)])
  },
  truncate (r, buf) {
    return buf.subarray(0, r.int(buf.length + 1))
  }
}

export const STRUCTURAL_MUTATIONS = Object.keys(STRUCTURAL)
export const BYTE_MUTATIONS = Object.keys(BYTEWISE)

// ---------------------------------------------------------------------------
// Sequences and the corpus.

/** 1-4 pipelined valid requests; sometimes cut short. */
export function genValid (r) {
  const n = r.weighted([[55, 1], [25, 2], [12, 3], [8, 4]])
  const parts = []
  for (let i = 0; i < n; i++) {
    const req = genRequest(r)
    parts.push(serialize(req))
    // Usually stop after a request that ends the connection; sometimes keep
    // going, to check that neither parser reads past it.
    if (closes(req) && r.chance(0.7)) break
  }
  let buf = Buffer.concat(parts)
  if (r.chance(0.12)) buf = buf.subarray(0, r.int(buf.length))
  return buf
}

/** A valid sequence with one or two mutations (structural ones on one of its requests). */
export function genMutated (r) {
  const n = r.weighted([[60, 1], [30, 2], [10, 3]])
  const reqs = []
  for (let i = 0; i < n; i++) reqs.push(genRequest(r))
  const names = []
  const howMany = r.chance(0.8) ? 1 : 2
  for (let k = 0; k < howMany; k++) {
    if (r.chance(0.65)) {
      const req = r.pick(reqs)
      for (let tries = 0; tries < 10; tries++) {
        const name = r.pick(STRUCTURAL_MUTATIONS)
        if (STRUCTURAL[name](r, req)) {
          names.push(name)
          break
        }
      }
    }
  }
  let buf = Buffer.concat(reqs.map(serialize))
  if (names.length === 0 || r.chance(0.3)) {
    const name = r.weighted([[25, 'flipByte'], [30, 'insertByte'], [15, 'deleteByte'], [10, 'duplicateRange'], [15, 'crlfToLf'], [5, 'truncate']])
    buf = BYTEWISE[name](r, buf)
    names.push(name)
  }
  return { bytes: buf, mutations: names }
}

// Hand-written inputs that every corpus starts with: one or more for each
// difference between salvo and llhttp that docs/PROTOCOL.md documents (so each
// is exercised whatever the seed), and edge cases on which both must agree.
const H = 'Host: a.example\r\n'
const CH = 'Transfer-Encoding: chunked\r\n'
export const EDGE_CASES = [
  // both refuse
  `GET / HTTP/1.1\n${H}\n`,
  `GET / HTTP/1.1\r\n${H}X: a\nY: b\r\n\r\n`,
  `GET / HTTP/1.1\r\n${H}X: a\r\n b\r\n\r\n`,
  `GET / HTTP/1.1\r\n${H}X : a\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n${CH}\r\n3\r\nabc\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}${CH}\r\n3\nabc\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}${CH}\r\n3\r\nabcd\r\n0\r\n\r\n`,
  `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`,
  `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`,
  // both accept, pipelined, and stop after close / HTTP/1.0
  `GET /1 HTTP/1.1\r\n${H}\r\nPOST /2 HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /3 HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /4 HTTP/1.1\r\n${H}\r\n`,
  `GET / HTTP/1.0\r\n\r\nGET /after HTTP/1.0\r\n\r\n`,
  `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /again HTTP/1.0\r\n\r\n`,
  `POST /c HTTP/1.1\r\n${H}${CH}\r\n5;name=value;q="a b"\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`,
  // upgrade-connect
  `CONNECT a.example:443 HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}\r\n`,
  `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00`,
  // host-validation
  'GET / HTTP/1.1\r\n\r\n',
  `GET / HTTP/1.1\r\n${H}${H}\r\n`,
  'GET / HTTP/1.1\r\nHost:\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a b\r\n\r\n',
  // leading-empty-line
  `\r\nGET / HTTP/1.1\r\n${H}\r\n`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\n${H}\r\n`,
  // request-line-whitespace, http-0.9
  `GET  / HTTP/1.1\r\n${H}\r\n`,
  'GET /\r\n\r\n',
  // major-version, minor-version
  `GET / HTTP/2.0\r\n${H}\r\n`,
  `GET / HTTP/0.9\r\n${H}\r\n`,
  `GET / HTTP/1.2\r\n${H}\r\n`,
  // expect
  `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx`,
  // header-limits
  `GET / HTTP/1.1\r\n${H}${Array.from({ length: 101 }, (_, i) => `X-${i}: ${i}\r\n`).join('')}\r\n`,
  `GET / HTTP/1.1\r\n${H}X-Long: ${'x'.repeat(16300)}\r\n\r\n`,
  // body-limit, content-length-range
  `POST / HTTP/1.1\r\n${H}Content-Length: 1048577\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}${CH}\r\n100001\r\n`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 00000000000000001\r\n\r\nx`,
  // te-http-1.0, te-unsupported-coding, te-empty-list-element, trailing-htab
  `POST / HTTP/1.0\r\n${CH}\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}Content-Length: 1\t\r\n\r\nx`,
  // connection-close-wins
  `GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\nGET / HTTP/1.0\r\n\r\n`,
  // trailer-fields
  `POST / HTTP/1.1\r\n${H}${CH}\r\n1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}${CH}\r\n1\r\nx\r\n0\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`,
  // chunk-ext-syntax, chunk-ext-whitespace
  `POST / HTTP/1.1\r\n${H}${CH}\r\n1;=v\r\nx\r\n0\r\n\r\n`,
  `POST / HTTP/1.1\r\n${H}${CH}\r\n1 ; a = b\r\nx\r\n0\r\n\r\n`,
  // extension-method, request-target-syntax
  `BREW /pot HTTP/1.1\r\n${H}\r\n`,
  'G',
  `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`,
  `GET a HTTP/1.1\r\n${H}\r\n`,
  // duplicate-content-length
  `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`,
  // framing-checked-with-whole-head (the input ends before the head does)
  `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n${CH}Accept: te`
].map((x) => Buffer.from(x, 'latin1'))

export function corpus ({ seed = 1, valid = 1000, mutated = 2000 } = {}) {
  const out = EDGE_CASES.map((bytes, i) => ({ id: `e${i}`, kind: 'edge', mutations: [], bytes }))
  const rv = makeRng(seed)
  for (let i = 0; i < valid; i++) out.push({ id: `v${i}`, kind: 'valid', mutations: [], bytes: genValid(rv) })
  const rm = makeRng(seed ^ 0x5bd1e995)
  for (let i = 0; i < mutated; i++) {
    const { bytes, mutations } = genMutated(rm)
    out.push({ id: `m${i}`, kind: 'mutated', mutations, bytes })
  }
  return out
}

