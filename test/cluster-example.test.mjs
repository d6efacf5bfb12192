// examples/cluster.ts as a user runs it: WORKERS=2, PORT=0; GET / and GET
// /worker over real sockets (two different worker ids answer); SIGTERM exits 0.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { getOnce } from './helpers/raw-client.mjs'

const getBody = async (port, path) => (await getOnce(port, path, 5000)).body
const ROOT = fileURLToPath(new URL('..', import.meta.url))


t.test('examples/cluster.ts: two workers answer, SIGTERM exits 0', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/cluster.ts'], {
    cwd: ROOT, env: { ...process.env, PORT: '0', WORKERS: '2', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  let out = ''
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      const m = /workers on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', () => reject(new Error(`exited early: ${out}`)))
  })
  t.equal(await getBody(port, '/'), 'Hello world!')
  const ids = new Set()
  for (let i = 0; i < 200 && ids.size < 2; i++) ids.add(await getBody(port, '/worker'))
  t.equal(ids.size, 2, `two worker ids: ${[...ids].join(', ')}`)
  for (const id of ids) t.match(id, /^w\d+$/)
  child.kill('SIGTERM')
  t.same(await exited, { code: 0, signal: null }, 'SIGTERM drains and exits 0')
})
