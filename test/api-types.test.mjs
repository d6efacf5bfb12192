// Type tests (spec "Types"): test/types/params.ts must type-check, including its
// `// @ts-expect-error` lines (an expected error that does not happen is itself an error).
// Runs `tsc --noEmit -p test/types/tsconfig.json` against the built declarations (dist/*.d.ts).

import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { existsSync, mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

function runTsc (args, cwd = root) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, ...args], { cwd, timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.killed ? 'timeout' : err.code) : 0, out: `${stdout}${stderr}` })
    })
  })
}

t.test('test/types/params.ts type-checks against dist/index.d.ts', async (t) => {
  t.ok(existsSync(path.join(root, 'dist/index.d.ts')), 'dist/index.d.ts exists (npm run build:ts)')
  const r = await runTsc(['--noEmit', '-p', 'test/types/tsconfig.json'])
  t.equal(r.code, 0, `tsc exit code (output:\n${r.out})`)
})

t.test('the type test can fail: a wrong parameter name is reported', async (t) => {
  // Guard against a tsconfig that checks nothing: the same setup with a deliberate error.
  const dir = mkdtempSync(path.join(tmpdir(), 'salvo-types-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const dist = path.join(root, 'dist/index').split(path.sep).join('/')
  writeFileSync(path.join(dir, 'bad.ts'), `import { App } from '${dist}';\nnew App().get('/u/:id', (req) => req.params.nope);\n`)
  const cfg = JSON.parse(readFileSync(path.join(root, 'test/types/tsconfig.json'), 'utf8'))
  cfg.files = ['bad.ts']
  cfg.compilerOptions.typeRoots = [path.join(root, 'node_modules/@types')]
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(cfg))
  const r = await runTsc(['--noEmit', '-p', path.join(dir, 'tsconfig.json')], dir)
  t.not(r.code, 0, 'tsc fails on req.params.nope')
  t.match(r.out, /nope/, 'the error names the property')
})
