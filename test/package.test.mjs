// The package's two entry points (package.json "exports"): ESM import and
// CommonJS require of 'salvo' give the same classes, with type declarations.
import t from 'tap'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { App, SalvoError, codes } from 'salvo'
import salvoDefault from 'salvo'

const require = createRequire(import.meta.url)

t.test("import and require of 'salvo' agree", async (t) => {
  const cjs = require('salvo')
  t.equal(App, cjs.App, 'same App class')
  t.equal(SalvoError, cjs.SalvoError)
  t.equal(codes, cjs.codes)
  t.equal(salvoDefault.App, App, 'the default export is the module')
  t.ok(existsSync(new URL('../dist/index.d.ts', import.meta.url)), 'type declarations are built')
  const app = new App().get('/', () => 'hi')
  const r = await app.inject({ url: '/' })
  t.equal(r.body, 'hi')
})
