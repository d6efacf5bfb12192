// The type provider's packaging (issue 11 item 1): the package root's declarations never need
// json-schema-to-ts (a user without it still compiles, with skipLibCheck off), and the
// `salvo/json-schema-to-ts` entry point resolves under both "node" (typesVersions) and "node16"
// ("exports") module resolution when json-schema-to-ts is installed. The typing itself is
// checked by test/types/type-provider.ts (compiled by test/api-types.test.mjs).
// A throwaway node_modules with a COPY of the package (a symlink would let TypeScript find the
// worktree's own json-schema-to-ts through the real path).

import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import path from 'node:path'
import { tsProject } from './helpers/ts-project.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

function runTsc (cwd) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { cwd, timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.killed ? 'timeout' : err.code) : 0, out: `${stdout}${stderr}` })
    })
  })
}

/** A project dir whose node_modules holds a copy of salvo's package.json + dist, @types/node, and optionally json-schema-to-ts. */
function project (t, { withLib, moduleResolution, files }) {
  const node16 = moduleResolution === 'node16'
  return tsProject(t, {
    prefix: 'salvo-tp-',
    deps: withLib ? ['json-schema-to-ts', 'ts-algebra'] : [],
    files,
    compilerOptions: {
      target: 'ES2022', module: node16 ? 'node16' : 'commonjs', moduleResolution, strict: true, noEmit: true,
      skipLibCheck: false, types: ['node'], esModuleInterop: true,
    },
  })
}

const ROOT_ONLY = `import { App, type TypeProvider } from 'salvo';
const app = new App();
app.post('/x', { schema: { body: { type: 'object' } } }, (req) => { const b: Buffer = req.body; return b.length; });
interface P extends TypeProvider { readonly output: string }
new App().withTypeProvider<P>().post('/y', { schema: { body: {} } }, (req) => req.body.toUpperCase());
`
const WITH_PROVIDER = `import { App } from 'salvo';
import type { JsonSchemaToTsProvider } from 'salvo/json-schema-to-ts';
const app = new App().withTypeProvider<JsonSchemaToTsProvider>();
app.post('/x', { schema: { body: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } } }, (req) => {
  const n: number = req.body.n;
  // @ts-expect-error: n is a number
  const s: string = req.body.n;
  return n + s;
});
`

for (const moduleResolution of ['node', 'node16']) {
  t.test(`moduleResolution ${moduleResolution}: without json-schema-to-ts only salvo/json-schema-to-ts fails`, async (t) => {
    const r = await runTsc(project(t, { withLib: false, moduleResolution, files: { 'root.ts': ROOT_ONLY, 'provider.ts': WITH_PROVIDER } }))
    t.not(r.code, 0, 'the provider entry point needs json-schema-to-ts')
    t.match(r.out, /json-schema-to-ts\.d\.ts\(\d+,\d+\): error TS2307: Cannot find module 'json-schema-to-ts'/, 'naming the missing module')
    t.notMatch(r.out, /^root\.ts\(/m, `the package root compiles (skipLibCheck off):\n${r.out}`)
    const salvoErrors = r.out.split('\n').filter((l) => l.startsWith('node_modules/salvo/'))
    t.same(salvoErrors.filter((l) => !l.includes("'json-schema-to-ts'")), [], 'no other error in salvo\'s declarations')
  })
  t.test(`moduleResolution ${moduleResolution}: with it, salvo/json-schema-to-ts resolves and types the route`, async (t) => {
    const r = await runTsc(project(t, { withLib: true, moduleResolution, files: { 'root.ts': ROOT_ONLY, 'provider.ts': WITH_PROVIDER } }))
    t.equal(r.code, 0, `tsc, the @ts-expect-error included (output:\n${r.out})`)
  })
}

t.test('the entry point loads at run time and exports nothing (types only)', async (t) => {
  const req = createRequire(import.meta.url)
  t.same(Object.keys(req('salvo/json-schema-to-ts')), [])
  const esm = await import('salvo/json-schema-to-ts')
  t.same(Object.keys(esm).filter((k) => k !== 'default' && k !== '__esModule'), [])
})
