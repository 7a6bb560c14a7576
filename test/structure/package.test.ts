/**
 * What `npm pack` ships works for its users: every entry point of package.json "exports" loads by
 * import and by require() (Node's require(esm): "default" is the condition require matches), and the
 * source maps in dist/ carry the TypeScript they map to (src/ is not in the package). Checks the built
 * dist/ (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = join(ROOT, 'dist');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, Record<string, string>> };
const entries = Object.keys(pkg.exports).map((sub) => (sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`));

beforeAll(() => {
  if (!existsSync(join(DIST, 'index.js'))) throw new Error(`${DIST} is missing: run npm run build first`);
});

/** The sorted runtime names of `specifier`, loaded by a fresh node from the repository (the package's self-reference). */
function namesVia(how: 'import' | 'require', specifier: string): string[] {
  const load = how === 'import' ? `import(${JSON.stringify(specifier)})` : `Promise.resolve(require(${JSON.stringify(specifier)}))`;
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', `${load}.then((m) => console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'module.exports' && k !== 'default').sort())))`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

describe('package.json "exports"', () => {
  it('each entry point has types, import, and a last "default" (what require() matches) to the same file', () => {
    for (const [sub, conditions] of Object.entries(pkg.exports)) {
      expect(Object.keys(conditions), sub).toEqual(['types', 'import', 'default']);
      expect(conditions['default'], sub).toBe(conditions['import']);
    }
  });

  it.each(entries)('require(%j) gives the names import gives', (specifier) => {
    const imported = namesVia('import', specifier);
    expect(imported.length).toBeGreaterThan(5);
    expect(namesVia('require', specifier)).toEqual(imported);
  });
});

describe('source maps', () => {
  it('the build either emits none or embeds the sources (src/ is not in the package)', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    const options = parsed!.options;
    if (options.sourceMap !== true) return;
    const fileName = join(ROOT, 'src', 'config', 'load.ts');
    const text = readFileSync(fileName, 'utf8');
    const out = ts.transpileModule(text, { compilerOptions: options, fileName });
    const map = JSON.parse(out.sourceMapText!) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent).toEqual([text]);
  });

  it('every .map file in dist/ carries the text of each source it names', () => {
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const maps = walk(DIST).filter((f) => f.endsWith('.map'));
    for (const file of maps) {
      const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(map.sourcesContent!.every((s) => typeof s === 'string' && s.length > 0), file).toBe(true);
    }
  });
});
