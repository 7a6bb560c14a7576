/**
 * A module of the built package (dist/) for a test that must run it in a child process, refused when the
 * build is older than the sources it was built from: `npx vitest` after an edit without `npm run build`
 * would otherwise test the old code and pass. The sources are the module's own and every src/ file it
 * imports, followed through relative imports.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (a test of this file passes a scratch tree instead). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Relative import specifiers (`from './x.js'`, `import('./x.js')`, `import './x.js'`). */
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** src/`module` (e.g. "config/socket-dir.js") and every src/ file it imports, as .ts paths. */
export function sourcesOf(module: string, root = ROOT): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1];
      if (spec !== undefined) visit(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    }
  };
  visit(join(root, 'src', module.replace(/\.js$/, '.ts')));
  return [...seen];
}

/**
 * The absolute path of dist/`module`; throws, saying to run `npm run build`, when it is missing or when a
 * source it depends on was changed after its build.
 */
export function builtModule(module: string, root = ROOT): string {
  const file = join(root, 'dist', module);
  if (!existsSync(file)) throw new Error(`${file} does not exist: run \`npm run build\` first`);
  for (const src of sourcesOf(module, root)) {
    const rel = relative(join(root, 'src'), src);
    const built = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
    const stale = !existsSync(built) || statSync(built).mtimeMs < statSync(src).mtimeMs;
    if (stale) throw new Error(`dist/ is older than src/${rel} (dist/${module} depends on it): run \`npm run build\` first`);
  }
  return file;
}
