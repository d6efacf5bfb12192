// What `npm pack` would publish (package.json "files"): what a user needs to
// load the package and to build the addon from source, and nothing of the
// tests, the fuzzers, their binaries or the build's scratch folders.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

t.test('npm pack --dry-run: the file list', async (t) => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })
  const files = JSON.parse(out)[0].files.map((f) => f.path)
  for (const need of ['package.json', 'README.md', 'binding.gyp', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts',
    'native/server.cc', 'native/parser.cc', 'native/server.h', 'src/app.ts', 'docs/API.md']) {
    t.ok(files.includes(need), `ships ${need}`)
  }
  const unwanted = files.filter((f) => /^(test|bench|examples|scripts|native\/test|native\/fuzz|build|\.work|\.ci)\//.test(f) || /\.(o|node|log)$/.test(f))
  t.same(unwanted, [], 'no tests, fuzzers, benches, build output or scratch files')
})
