'use strict'
// Invariant 3 at the kernel's level: during the pipelined load, count the
// server's read and write system calls with `strace -c` (counts, not times,
// so a noisy machine does not change them). Prints writes per read and
// requests per read. Usage: node bench/syscalls.js [seconds=4]
const { spawn, spawnSync } = require('node:child_process')
const path = require('node:path')
const { freePort } = require('./lib/spawn')

const seconds = Number(process.argv[2] || 4)
for (const tool of ['strace', 'wrk']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} not found: install it with 'apt-get install -y ${tool}'`)
    process.exit(1)
  }
}

const run = (cmd, args) => new Promise((resolve) => {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  p.stdout.on('data', (d) => { out += d })
  p.stderr.on('data', (d) => { out += d })
  p.on('close', () => resolve(out))
})

async function main () {
  const port = await freePort()
  const server = spawn(process.execPath, [path.join(__dirname, 'servers/salvo.js')], {
    env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit']
  })
  await new Promise((resolve) => server.stdout.once('data', resolve))
  const url = `http://127.0.0.1:${port}/`
  const lua = path.join(__dirname, 'pipeline.lua')
  await run('wrk', ['-t1', '-c100', '-d2s', '-s', lua, url, '--', '24']) // warm up
  const out = path.join(require('node:os').tmpdir(), `salvo-strace-${process.pid}.txt`)
  const strace = spawn('strace', ['-c', '-f', '-p', String(server.pid), '-o', out], { stdio: 'ignore' })
  await new Promise((resolve) => setTimeout(resolve, 500))
  const load = await run('wrk', ['-t1', '-c100', `-d${seconds}s`, '-s', lua, url, '--', '24'])
  strace.kill('SIGINT')
  await new Promise((resolve) => strace.on('close', resolve))
  server.kill('SIGKILL')
  const table = require('node:fs').readFileSync(out, 'utf8')
  const calls = (name) => Number((new RegExp(`^\\s*[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+(\\d+)\\s+(?:\\d+\\s+)?${name}$`, 'm').exec(table) || [])[1] || 0)
  const reads = calls('read')
  const writes = calls('write') + calls('writev')
  const requests = Number((/(\d+) requests in/.exec(load) || [])[1] || 0)
  console.log(table.trim())
  console.log(`\nunder strace, ${seconds} s of wrk -t1 -c100, 24-deep pipelines: ${requests} requests, ${reads} reads, ${writes} writes`)
  console.log(`writes per read: ${(writes / reads).toFixed(4)}, requests per read: ${(requests / reads).toFixed(1)}`)
  process.exitCode = writes <= reads ? 0 : 1
}

main().catch((err) => { console.error(err); process.exit(2) })
