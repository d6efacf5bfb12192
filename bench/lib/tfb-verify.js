'use strict'
// The TechEmpower verifier's checks, our own reading of its rules
// (toolset/test_types/*/verify): for every test type the status, the headers
// (Server, Date in IMF-fixdate, Content-Type of the type, a length), the body
// shape, the 1..500 clamping of queries/count, fortunes escaped and sorted,
// and that /updates persists. verify(port, sql) resolves to a list of
// problems (strings); empty means the server may be benchmarked.
const http = require('node:http')
const { FORTUNES } = require('./pg')

function get (port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 10000 }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)))
    req.on('error', reject)
  })
}

const TYPES = {
  json: /^application\/json(; ?charset=(UTF|utf)-8)?$/,
  html: /^text\/html; ?charset=(UTF|utf)-8$/,
  plaintext: /^text\/plain(; ?charset=(UTF|utf)-8)?$/
}
const IMF_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/

function checkHeaders (r, kind, path) {
  const out = []
  if (r.status !== 200) out.push(`${path}: status ${r.status}, not 200`)
  if (!r.headers.server) out.push(`${path}: no Server header`)
  if (!r.headers.date) out.push(`${path}: no Date header`)
  else if (!IMF_DATE.test(r.headers.date)) out.push(`${path}: Date '${r.headers.date}' is not an IMF-fixdate`)
  if (!TYPES[kind].test(r.headers['content-type'] || '')) out.push(`${path}: Content-Type '${r.headers['content-type']}' is not ${kind}`)
  if (!r.headers['content-length'] && !r.headers['transfer-encoding']) out.push(`${path}: neither Content-Length nor Transfer-Encoding`)
  return out
}

function parseJson (r, path, out) {
  try { return JSON.parse(r.body) } catch { out.push(`${path}: body is not JSON: ${r.body.slice(0, 80)}`); return undefined }
}

function checkWorld (o, path) {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return [`${path}: ${JSON.stringify(o)} is not an object`]
  const keys = Object.keys(o).map((k) => k.toLowerCase()).sort()
  if (keys.join() !== 'id,randomnumber') return [`${path}: keys ${keys.join(',')}, expected id and randomNumber`]
  const id = o.id ?? o.Id ?? o.ID
  const rn = o.randomNumber ?? o.randomnumber
  if (!Number.isInteger(id) || id < 1 || id > 10000) return [`${path}: id ${id} not an integer 1..10000`]
  if (!Number.isInteger(rn) || rn < 1 || rn > 10000) return [`${path}: randomNumber ${rn} not an integer 1..10000`]
  return []
}

// The queries/count cases the verifier asks, with the length each must give.
const CASES = [['2', 2], ['0', 1], ['foo', 1], ['501', 500], ['', 1], ['-3', 1], ['20', 20]]

async function checkList (port, base) {
  const out = []
  for (const [q, len] of CASES) {
    const path = base + q
    const r = await get(port, path)
    out.push(...checkHeaders(r, 'json', path))
    const list = parseJson(r, path, out)
    if (list === undefined) continue
    if (!Array.isArray(list)) { out.push(`${path}: not a JSON array`); continue }
    if (list.length !== len) out.push(`${path}: ${list.length} rows, expected ${len}`)
    for (const o of list.slice(0, 50)) {
      const p = checkWorld(o, path)
      if (p.length) { out.push(...p); break }
    }
  }
  return out
}

const ENTITY = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const decode = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) =>
  e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : (ENTITY[e] ?? m))

function expectedFortunes () {
  const rows = FORTUNES.map(([id, message]) => ({ id, message }))
  rows.push({ id: 0, message: 'Additional fortune added at request time.' })
  return rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0))
}

async function checkFortunes (port) {
  const path = '/fortunes'
  const r = await get(port, path)
  const out = checkHeaders(r, 'html', path)
  const html = r.body.replace(/>\s+</g, '><').trim()
  if (!/^<!doctype html><html><head><title>Fortunes<\/title><\/head><body><table><tr><th>id<\/th><th>message<\/th><\/tr>/i.test(html)) out.push(`${path}: page does not start as the TFB template`)
  if (!/<\/table><\/body><\/html>$/i.test(html)) out.push(`${path}: page does not end as the TFB template`)
  if (/<script/i.test(html)) out.push(`${path}: an unescaped <script> reached the page`)
  const rows = [...html.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => ({ id: Number(m[1]), message: decode(m[2]) }))
  const want = expectedFortunes()
  if (JSON.stringify(rows) !== JSON.stringify(want)) out.push(`${path}: rows (decoded) are not the 13 fortunes sorted by message: ${JSON.stringify(rows).slice(0, 200)}`)
  return out
}

/** Every check; `sql` (a postgres.js client on the same database) checks that updates persist. */
async function verify (port, sql) {
  const out = []
  let r = await get(port, '/plaintext')
  out.push(...checkHeaders(r, 'plaintext', '/plaintext'))
  if (r.body !== 'Hello, World!') out.push(`/plaintext: body '${r.body.slice(0, 40)}'`)
  r = await get(port, '/json')
  out.push(...checkHeaders(r, 'json', '/json'))
  const j = parseJson(r, '/json', out)
  if (j !== undefined && JSON.stringify(j) !== '{"message":"Hello, World!"}') out.push(`/json: body ${r.body.slice(0, 60)}`)
  r = await get(port, '/db')
  out.push(...checkHeaders(r, 'json', '/db'))
  const w = parseJson(r, '/db', out)
  if (w !== undefined) out.push(...checkWorld(w, '/db'))
  // Random rows: two answers in a row should (almost surely) differ.
  // (A body that is not JSON was reported above; here it only counts as no row.)
  const w2 = parseJson(await get(port, '/db'), '/db', [])
  if (w && w2 && w.id === w2.id && (await get(port, '/db')).body === r.body) out.push('/db: the same row three times: not random')
  out.push(...await checkList(port, '/queries?queries='))
  out.push(...await checkFortunes(port))
  out.push(...await checkList(port, '/cached-queries?count='))
  // Updates: the answer's rows must be in the database afterwards.
  const before = new Map((await sql`SELECT id, randomnumber FROM world`).map((x) => [x.id, x.randomnumber]))
  const path = '/updates?queries=500'
  r = await get(port, path)
  out.push(...checkHeaders(r, 'json', path))
  const updated = parseJson(r, path, out)
  if (Array.isArray(updated)) {
    const after = new Map((await sql`SELECT id, randomnumber FROM world`).map((x) => [x.id, x.randomnumber]))
    let changed = 0
    for (const [id, rn] of after) if (before.get(id) !== rn) changed++
    // A few ids drawn twice and a new number equal to the old one are allowed (TFB: 90%).
    if (changed < 0.9 * 500 * 0.95) out.push(`${path}: only ${changed} rows changed in the database`)
    const last = new Map()
    for (const o of updated) last.set(o.id, o.randomNumber)
    const stale = [...last].filter(([id, rn]) => after.get(id) !== rn && before.get(id) === after.get(id))
    if (stale.length > 5) out.push(`${path}: ${stale.length} answered rows were not written back`)
  }
  out.push(...await checkList(port, '/updates?queries='))
  return out
}

module.exports = { verify, get, checkHeaders, expectedFortunes, decode }
