'use strict'
// The database side the TechEmpower peers share (tfb-fastify.js, tfb-node.js):
// one driver (`postgres`), one pool (TFB_POOL, default 1, as examples/tfb.ts),
// the same queries (fortunes' HTML, the batched update, the cached table), the
// TFB rules for the query count and HTML escaping, so
// the peers differ only by their HTTP layer. DATABASE_URL.
const postgres = require('../lib/pg').loadDriver()

const POOL = Number(process.env.TFB_POOL || 1)
// max_pipeline: the same as examples/tfb.ts (its header says why).
const sql = postgres(process.env.DATABASE_URL, { max: POOL, max_pipeline: 2000, connect_timeout: 2, idle_timeout: 0, onnotice: () => {}, fetch_types: false })

const randomId = () => 1 + Math.floor(Math.random() * 10000)
/** The `queries`/`count` parameter: an integer clamped to 1..500, anything else 1. */
function count (raw) {
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) return 1
  const n = Number(raw)
  return n < 1 ? 1 : n > 500 ? 500 : n
}
async function oneWorld () {
  const rows = await sql`SELECT id, randomnumber FROM world WHERE id = ${randomId()}`
  return { id: rows[0].id, randomNumber: rows[0].randomnumber }
}
function worlds (n) {
  const all = new Array(n)
  for (let i = 0; i < n; i++) all[i] = oneWorld()
  return Promise.all(all)
}
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ESC[c])

/** Every fortune plus the one added at request time, sorted by message, as the escaped HTML table. */
async function fortunes () {
  const rows = (await sql`SELECT id, message FROM fortune`).map((r) => ({ id: r.id, message: r.message }))
  rows.push({ id: 0, message: 'Additional fortune added at request time.' })
  rows.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0))
  let html = '<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>'
  for (const r of rows) html += `<tr><td>${r.id}</td><td>${escapeHtml(r.message)}</td></tr>`
  return html + '</table></body></html>'
}
/** N random rows, each given a new random number, written back in one statement. */
async function updates (n) {
  const rows = await worlds(n)
  const byId = new Map()
  for (const w of rows) byId.set(w.id, randomId())
  for (const w of rows) w.randomNumber = byId.get(w.id)
  const ids = [...byId.keys()].sort((a, b) => a - b)
  await sql`UPDATE world SET randomnumber = v.r::int FROM (VALUES ${sql(ids.map((id) => [id, byId.get(id)]))}) AS v (id, r) WHERE world.id = v.id::int`
  return rows
}

/** The in-process copy of `world` for /cached-queries, filled once at start. */
const cache = []
async function fillCache () {
  for (const r of await sql`SELECT id, randomnumber FROM world`) cache[r.id] = { id: r.id, randomNumber: r.randomnumber }
}
function cached (n) {
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = cache[randomId()]
  return out
}

module.exports = { POOL, sql, count, oneWorld, worlds, fortunes, updates, fillCache, cached }
