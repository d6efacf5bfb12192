'use strict'
// The database side the TechEmpower peers share (tfb-fastify.js, tfb-node.js):
// one driver (`postgres`), one pool (TFB_POOL, default 2, as examples/tfb.ts),
// the same queries, the TFB rules for the query count, and HTML escaping, so
// the peers differ only by their HTTP layer. DATABASE_URL.
const postgres = require('postgres')

const POOL = Number(process.env.TFB_POOL || 2)
const sql = postgres(process.env.DATABASE_URL, { max: POOL, connect_timeout: 2, idle_timeout: 0, onnotice: () => {}, fetch_types: false })

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

module.exports = { POOL, sql, randomId, count, oneWorld, worlds, escapeHtml }
