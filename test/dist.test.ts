/** test/dist.ts: a test that runs dist/ refuses a build older than the sources it came from. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtModule, sourcesOf } from './dist.js';

const root = mkdtempSync(join(tmpdir(), 'mailgate-dist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** src/a.ts imports b (which imports c/d) and a type; src/e.ts is not imported. */
const SOURCES: Record<string, string> = {
  'a.ts': "import { b } from './b.js';\nimport type { T } from './t.js';\nexport const a = (x: T) => b(x);\n",
  'b.ts': "export { c } from './c/d.js';\nexport const b = (x: unknown) => x;\n",
  'c/d.ts': 'export const c = 1;\n',
  't.ts': 'export type T = number;\n',
  'e.ts': 'export const e = 1;\n',
};

function tree(): void {
  rmSync(join(root, 'src'), { recursive: true, force: true });
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const old = new Date(Date.now() - 60_000);
  for (const [file, text] of Object.entries(SOURCES)) {
    for (const [top, name, when] of [['src', file, old], ['dist', file.replace(/\.ts$/, '.js'), new Date()]] as const) {
      mkdirSync(join(root, top, 'c'), { recursive: true });
      writeFileSync(join(root, top, name), text);
      utimesSync(join(root, top, name), when, when);
    }
  }
}

describe('builtModule', () => {
  it('follows relative imports: the module and what it imports, not the rest of src/', () => {
    tree();
    expect(sourcesOf('a.js', root).map((f) => f.slice(root.length + 5)).sort()).toEqual(['a.ts', 'b.ts', 'c/d.ts', 't.ts']);
  });

  it('gives the dist/ file when it was built after its sources', () => {
    tree();
    expect(builtModule('a.js', root)).toBe(join(root, 'dist', 'a.js'));
  });

  it('refuses a dist/ older than a source it imports (edited after the build), saying to build', () => {
    tree();
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'src', 'c', 'd.ts'), later, later);
    expect(() => builtModule('a.js', root)).toThrow('dist/ is older than src/c/d.ts (dist/a.js depends on it): run `npm run build` first');
    // a source it does not import may change freely
    tree();
    utimesSync(join(root, 'src', 'e.ts'), later, later);
    expect(builtModule('a.js', root)).toBe(join(root, 'dist', 'a.js'));
  });

  it('refuses a missing dist/ file, or a missing counterpart of a source', () => {
    tree();
    rmSync(join(root, 'dist', 'b.js'));
    expect(() => builtModule('a.js', root)).toThrow('dist/ is older than src/b.ts (dist/a.js depends on it): run `npm run build` first');
    expect(() => builtModule('x.js', root)).toThrow(`${join(root, 'dist', 'x.js')} does not exist: run \`npm run build\` first`);
  });
});
