// A throwaway TypeScript project that uses salvo as an installed package: node_modules/salvo
// holds a copy of package.json and dist (examples left out), @types/node and undici-types are
// linked from this checkout, and so is every package named in `deps`. Used by the tests that
// compile code against the published declarations (type provider, API.md examples).
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The project's folder (removed at teardown), with `files` and a tsconfig.json listing them. */
export function tsProject (t, { prefix, deps = [], files, compilerOptions, packageJson }) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pkg = path.join(dir, 'node_modules/salvo')
  mkdirSync(pkg, { recursive: true })
  cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'))
  cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true, filter: (src) => !src.includes(`${path.sep}examples`) })
  mkdirSync(path.join(dir, 'node_modules/@types'), { recursive: true })
  symlinkSync(path.join(root, 'node_modules/@types/node'), path.join(dir, 'node_modules/@types/node'))
  for (const dep of ['undici-types', ...deps]) symlinkSync(path.join(root, 'node_modules', dep), path.join(dir, 'node_modules', dep))
  for (const [name, source] of Object.entries(files)) writeFileSync(path.join(dir, name), source)
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(files) }))
  if (packageJson !== undefined) writeFileSync(path.join(dir, 'package.json'), JSON.stringify(packageJson))
  return dir
}
