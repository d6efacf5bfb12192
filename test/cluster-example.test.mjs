// examples/cluster.ts as a user runs it: WORKERS=2, PORT=0; GET / and GET
// /worker over real sockets (two different worker ids answer); SIGTERM exits 0.
import t from 'tap'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function get (port, path) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let data = ''
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('timeout')) })
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    s.on('data', (d) => { data += d })
    s.on('end', () => resolve(data.slice(data.indexOf('\r\n\r\n') + 4)))
    s.on('error', reject)
  })
}

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
  t.equal(await get(port, '/'), 'Hello world!')
  const ids = new Set()
  for (let i = 0; i < 200 && ids.size < 2; i++) ids.add(await get(port, '/worker'))
  t.equal(ids.size, 2, `two worker ids: ${[...ids].join(', ')}`)
  for (const id of ids) t.match(id, /^w\d+$/)
  child.kill('SIGTERM')
  t.same(await exited, { code: 0, signal: null }, 'SIGTERM drains and exits 0')
})
