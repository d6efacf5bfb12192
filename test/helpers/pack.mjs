// Packs the package as `npm pack` would publish it, without touching the
// checkout: the package's files are copied to a temp dir (node_modules
// symlinked), and `npm pack` runs there with its lifecycle scripts, so the
// prepack's prebuild and the prepare's tsc write into the copy, not into the
// build/ and dist/ that the other test files are loading at the same time.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))

// What the build never reads: the copy stays small and the pack honest
// (a leftover prebuilds/ or build/ of the checkout cannot leak into it).
const SKIP = new Set(['node_modules', '.git', 'build', 'prebuilds', '.work', '.tap', 'dist'])

/** Copies the package to a fresh temp dir; returns { dir, cleanup }. */
export function copyPackage () {
  const dir = mkdtempSync(path.join(tmpdir(), 'salvo-pack-'))
  const pkg = path.join(dir, 'pkg')
  cpSync(root, pkg, { recursive: true, filter: (src) => !SKIP.has(path.relative(root, src).split(path.sep)[0]) })
  symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'), 'dir')
  return { dir, pkg, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

// Under `npm run test:asan` the suite's processes preload the sanitizer
// runtime; packing compiles (gcc, node-gyp) and has nothing to check, so it
// runs without it (and any report it made would fail the ASan run).
const ASAN_VARS = ['LD_PRELOAD', 'NODE_OPTIONS', 'SALVO_ADDON', 'SALVO_ASAN_PROCS', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']
export const plainEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !ASAN_VARS.includes(k)))

/** `npm pack` (scripts on) in `pkg`; `dryRun` lists without writing. Returns npm's JSON entry. */
export function npmPack (pkg, { dryRun = false, destination } = {}) {
  const args = ['pack', '--json', ...(dryRun ? ['--dry-run'] : []), ...(destination ? ['--pack-destination', destination] : [])]
  const out = execFileSync('npm', args, { cwd: pkg, env: plainEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
  // Lifecycle scripts may print to stdout before npm's JSON.
  return JSON.parse(out.slice(out.indexOf('[')))[0]
}
