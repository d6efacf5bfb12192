// docs/API.md's examples are code: every ```ts block is type-checked against the package's
// built declarations (a copy of package.json + dist in a throwaway node_modules/salvo, as
// test/type-provider.test.mjs does), so an example that no longer matches the API fails here.
// One tsc run over all blocks, each its own module file named for its line in API.md.
// Blocks fenced ```ts signature are synopses (parameters with their defaults), not code: they
// are skipped, and counted so that the skip cannot swallow the examples.
// Each block may use, without declaring them, the names the docs use as "your code" (app, req,
// res, a database, ...): declared in doc-globals.d.ts below; salvo's exports it does not import
// itself are imported for it.
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { tsProject } from './helpers/ts-project.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

/** The ```ts blocks of a markdown text: { line (of the fence), info, code }. */
function blocks (md) {
  const out = []
  const lines = md.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts\b.*)$/.exec(lines[i])
    if (!m) continue
    const start = i
    const body = []
    while (++i < lines.length && !/^```\s*$/.test(lines[i])) body.push(lines[i])
    out.push({ line: start + 1, info: m[1].trim(), code: body.join('\n') })
  }
  return out
}

// salvo's value and type exports a block may use unimported (the index's, as docs/API.md lists them).
const VALUES = ['App', 'Server', 'Request', 'Reply', 'SalvoError', 'codes', 'fp', 'plugin', 'cluster', 'workerId', 'cors', 'compress']
const TYPES = ['AppOptions', 'ListenOptions', 'CloseOptions', 'RouteOptions', 'RouteHandler', 'PathParams', 'HookName', 'InjectOptions', 'InjectResponse', 'Plugin', 'Headers', 'Query', 'CookieOptions', 'TypeProvider', 'TypedReply']

/** The block as a module: salvo's names it does not import itself, imported for it. */
function moduleOf (code) {
  const imported = new Set()
  for (const m of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'salvo'/g)) {
    for (const name of m[1].split(',')) imported.add(name.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop())
  }
  const values = VALUES.filter((n) => !imported.has(n))
  const types = TYPES.filter((n) => !imported.has(n))
  const head = [
    values.length ? `import { ${values.join(', ')} } from 'salvo';` : '',
    types.length ? `import type { ${types.join(', ')} } from 'salvo';` : '',
  ].filter(Boolean).join(' ')
  // On the block's first line, so that tsc's line numbers are the block's own.
  return `${head} ${code}\nexport {};\n`
}

// "Your code" in the examples: declared, never implemented (nothing runs).
const GLOBALS = `import type { App, Request, Reply } from 'salvo';
declare global {
  const app: App;
  const req: Request;
  const res: Reply;
  const handler: (req: Request, res: Reply) => unknown;
  const myAjv: { compile(schema: object): (data: unknown) => boolean };
  function save(body: Buffer): Promise<{ saved: number }>;
  function parseXml(text: string): unknown;
  function decode(body: Buffer): Promise<unknown>;
  function somethingSlow(): Promise<void>;
  const db: { query(sql: string, opts?: { signal?: AbortSignal }): Promise<unknown[]> };
  const sessions: { has(id: string | undefined): Promise<boolean> };
  const metrics: { count(status: number): void };
  const log: { error(fields: object): void };
  const items: Map<string, { id: string }>;
  function connect(url: string): Promise<{ listUsers(): Promise<unknown[]>; user(id: string): Promise<unknown> }>;
  function checkToken(req: Request): Promise<void>;
  const assert: typeof import('node:assert');
}
export {};
`

function runTsc (cwd) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { cwd, timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.killed ? 'timeout' : err.code) : 0, out: `${stdout}${stderr}` })
    })
  })
}

/** A project with salvo (package.json + dist copied), @types/node and json-schema-to-ts, and `files`. */
function project (t, files) {
  return tsProject(t, {
    prefix: 'salvo-doc-',
    deps: ['json-schema-to-ts', 'ts-algebra'],
    files,
    compilerOptions: {
      // ES modules (top-level await, as the examples use it), "exports" resolution (salvo/json-schema-to-ts).
      target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true,
      skipLibCheck: true, types: ['node'], esModuleInterop: true,
    },
    packageJson: { type: 'module' },
  })
}

const md = readFileSync(path.join(root, 'docs/API.md'), 'utf8')
const all = blocks(md)
const examples = all.filter((b) => b.info === 'ts')
const synopses = all.filter((b) => b.info === 'ts signature')

t.test('docs/API.md: every ```ts block is an example or a synopsis', async (t) => {
  t.same(all.filter((b) => b.info !== 'ts' && b.info !== 'ts signature').map((b) => `line ${b.line}: ${b.info}`), [], 'no other kind of ts block')
  t.ok(examples.length >= 35, `examples found (${examples.length})`)
  t.ok(synopses.length < examples.length / 2, `synopses are the few (${synopses.length})`)
})

t.test('docs/API.md: every example type-checks against the package', async (t) => {
  const files = { 'doc-globals.d.ts': GLOBALS }
  for (const b of examples) files[`api-md-line-${b.line}.ts`] = moduleOf(b.code)
  const r = await runTsc(project(t, files))
  const errors = r.out.split('\n').filter((l) => /error TS\d+/.test(l))
  t.same(errors, [], `tsc over ${examples.length} examples (file api-md-line-N.ts: the block whose fence is on line N of docs/API.md)`)
  t.equal(r.code, 0, r.out)
})

t.test('the check can fail: an example that no longer matches the API is reported on its line', async (t) => {
  const bad = "app.get('/u/:id', (req) => req.params.nope);\nnew App({ noSuchOption: 1 });"
  const r = await runTsc(project(t, { 'doc-globals.d.ts': GLOBALS, 'api-md-line-7.ts': moduleOf(bad) }))
  t.not(r.code, 0)
  t.match(r.out, /api-md-line-7\.ts\(1,\d+\): error TS2339: Property 'nope' does not exist/)
  t.match(r.out, /api-md-line-7\.ts\(2,\d+\): error TS2353: .*noSuchOption/)
})

t.test('docs/API.md: every public method has an example that calls it', async (t) => {
  // The public surface from the built package itself: the methods of App, Reply, Request and
  // Server (not `_`-prefixed internals), and the functions the package root exports.
  // A method is public when its declaration (dist/*.d.ts) is neither `private` nor `@internal`.
  const salvo = createRequire(import.meta.url)(root)
  const declared = (file) => {
    const text = readFileSync(path.join(root, 'dist', file), 'utf8')
    const names = new Set()
    for (const m of text.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?^ {4}(?:static )?(\w+)(?:<[^\n]*>)?\(/gm)) {
      if (!(m[1] ?? '').includes('@internal')) names.add(m[2])
    }
    return names
  }
  const methods = (cls, file) => {
    const pub = declared(file)
    return Object.entries(Object.getOwnPropertyDescriptors(cls.prototype))
      .filter(([name, d]) => name !== 'constructor' && !name.startsWith('_') && typeof d.value === 'function' && pub.has(name))
      .map(([name]) => name)
  }
  const calls = new Set()
  for (const [cls, file] of [[salvo.App, 'app.d.ts'], [salvo.Reply, 'reply.d.ts'], [salvo.Request, 'request.d.ts'], [salvo.Server, 'server.d.ts']]) {
    for (const m of methods(cls, file)) calls.add(m)
  }
  for (const [name, v] of Object.entries(salvo)) if (typeof v === 'function' && /^[a-z]/.test(name)) calls.add(name)
  const code = examples.map((b) => b.code).join('\n')
  const missing = [...calls].filter((name) => !new RegExp(`(^|[^\\w$])${name}(<[^>]*>)?\\(`, 'm').test(code)).sort()
  t.ok(calls.size > 40 && calls.has('get') && calls.has('send') && !calls.has('listenAsync'), `the public calls found (${calls.size})`)
  t.same(missing, [], 'public calls without a checked example in docs/API.md')
})
