// examples/upload.ts as a user runs it (PORT=0): a multipart/form-data POST with two files
// and a field, over a real socket, streamed into busboy (bodyStream); each file's size and
// SHA-256 match what was sent, also for a file larger than the default maxBodySize (1 MiB).
// Not multipart -> 415; a broken form -> 400.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const sha = (b) => createHash('sha256').update(b).digest('hex')

t.test('examples/upload.ts: two files and a field', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/upload.ts'], {
    cwd: ROOT, env: { ...process.env, PORT: '0', NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/upload)/.exec(out)
      if (m) resolve(m[1])
    })
    child.once('exit', () => reject(new Error(`exited early: ${out}`)))
  })
  const a = Buffer.alloc(300 * 1024)
  for (let i = 0; i < a.length; i++) a[i] = (i * 7919) & 0xff
  const b = Buffer.from('line one\r\n--not-a-boundary\r\nline three\n')
  const form = new FormData()
  form.append('title', 'holiday')
  form.append('a', new Blob([a], { type: 'application/octet-stream' }), 'a.bin')
  form.append('b', new Blob([b], { type: 'text/plain' }), 'notes.txt')
  const r = await fetch(url, { method: 'POST', body: form })
  t.equal(r.status, 200)
  t.same(await r.json(), {
    fields: { title: 'holiday' },
    files: [
      { field: 'a', filename: 'a.bin', mimeType: 'application/octet-stream', size: a.length, sha256: sha(a) },
      { field: 'b', filename: 'notes.txt', mimeType: 'text/plain', size: b.length, sha256: sha(b) },
    ],
  })
  // 5 MiB: five times the default maxBodySize, which a buffered body could not pass.
  const big = Buffer.alloc(5 * 1024 * 1024)
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff
  const bigForm = new FormData()
  bigForm.append('big', new Blob([big]), 'big.bin')
  const rb = await fetch(url, { method: 'POST', body: bigForm })
  t.equal(rb.status, 200)
  t.same(await rb.json(), {
    fields: {},
    files: [{ field: 'big', filename: 'big.bin', mimeType: 'application/octet-stream', size: big.length, sha256: sha(big) }],
  })
  const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'x' })
  t.equal(plain.status, 415)
  t.equal((await plain.json()).code, 'UPLOAD_NOT_MULTIPART')
  const broken = await fetch(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' })
  t.equal(broken.status, 400, 'no boundary: the parser throws -> 400')
  t.equal((await broken.json()).code, 'SALVO_ERR_BODY_PARSE')
  child.kill('SIGTERM')
  t.same(await exited, { code: 0, signal: null }, 'SIGTERM exits 0')
})
