// `npm start` runs the hello example with plain node (dist/examples/hello.js,
// compiled by build:ts from examples/hello.ts): no tsx, which is only a
// devDependency.  PORT=0 picks a free port; the example prints its URL.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { getOnce, withTimeout } from './helpers/raw-client.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))

t.test('npm start serves the hello world', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  t.match(pkg.scripts.start, /^node /, 'start runs node, not a devDependency')
  // Its own process group, so that the kill reaches npm's child (node) too.
  const child = spawn('npm', ['start'], { cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    try { process.kill(-child.pid, 'SIGTERM') } catch {}
    await exited
  })
  let out = ''
  const url = await withTimeout(new Promise((resolve, reject) => {
    child.stdout.on('data', (c) => {
      out += c
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`npm start exited ${code} before listening: ${out}`)))
  }), 20_000, 'npm start')
  t.ok(url > 0, 'it printed its URL with the port it got')
  const res = await getOnce(url, '/', 5000)
  t.equal(res.status, 200)
  t.equal(res.body, 'Hello world!')
  // The whole group (npm and its node) goes on SIGTERM: nothing is left listening.
  process.kill(-child.pid, 'SIGTERM')
  await withTimeout(exited, 10_000, 'exit after SIGTERM')
  await t.rejects(getOnce(url, '/', 2000), 'the port no longer answers')
})
