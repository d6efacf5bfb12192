// What `npm pack` would publish (package.json "files"): what a user needs to
// load the package (the prebuilt N-API addon, built by the prepack) and to
// build the addon from source elsewhere, and nothing of the tests, the
// fuzzers, their binaries, the compiled examples or the build's scratch folders.
import t from 'tap'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { copyPackage, npmPack } from './helpers/pack.mjs'

t.setTimeout(180_000)

t.test('npm pack --dry-run: the file list', async (t) => {
  const { pkg, cleanup } = copyPackage()
  t.teardown(cleanup)
  const files = npmPack(pkg, { dryRun: true }).files.map((f) => f.path)
  for (const need of ['package.json', 'README.md', 'binding.gyp', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts',
    'native/server.cc', 'native/parser.cc', 'native/server.h', 'src/app.ts', 'docs/API.md']) {
    t.ok(files.includes(need), `ships ${need}`)
  }
  const prebuilt = files.filter((f) => /^prebuilds\/linux-x64\/[^/]+\.node$/.test(f))
  t.same(prebuilt, ['prebuilds/linux-x64/salvo.glibc.node'], 'ships the one N-API prebuild for linux-x64 (glibc)')
  const unwanted = files.filter((f) => /^(test|bench|examples|scripts|native\/test|native\/fuzz|build|dist\/examples|\.work|\.ci)\//.test(f) ||
    /\.(o|log)$/.test(f) || (/\.node$/.test(f) && !f.startsWith('prebuilds/')))
  t.same(unwanted, [], 'no tests, fuzzers, benches, compiled examples, build output or scratch files')
  t.notOk(existsSync(path.join(pkg, 'prebuilds')), 'postpack removed prebuilds/ again (no stale binary for the next npm ci)')
})
