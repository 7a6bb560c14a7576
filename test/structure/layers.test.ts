/**
 * The layer rule of eslint.layers.js: an upward import fails `npm run lint` (and so `npm test`), shown
 * with deliberate ones linted as if they were files of src/; the tree as it is passes the same check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { fileViolation, LAYERS, layerViolation, SERVICES, specifierViolation } from '../../eslint.layers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

/** The layer errors ESLint reports for `code` written at `file` (relative to the repository). */
async function layerErrors(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'mailgate/layers').map((m) => m.message);
}

describe('npm run lint refuses an upward import', () => {
  const eslint = new ESLint({ cwd: ROOT });

  it('config/ importing milter/ (the import config/detect had) is an error', async () => {
    const errors = await layerErrors(eslint, 'src/config/upward.ts', "import { parseConnectionSpec } from '../milter/spec.js';\nexport const p = parseConnectionSpec;\n");
    expect(errors).toEqual(["config/ must not import milter/, a layer above it (dependencies point down only: see eslint.layers.js): '../milter/spec.js'"]);
  });

  it('type-only imports, re-exports, import() and import types count too', async () => {
    const code = [
      "import type { Chain } from '../../chain/chain.js';",
      "export { startManager } from '../../cli/manager.js';",
      "export type C = import('../../chain/chain.js').Chain;",
      "export const later = () => import('../../chain/reloadable.js');",
      'export type X = Chain;',
    ].join('\n');
    const errors = await layerErrors(eslint, 'src/filters/greylist/upward.ts', code);
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/^filters\/ must not import chain\/, a layer above it/);
    expect(errors[1]).toMatch(/^filters\/ must not import cli\/, a layer above it/);
  });

  it('services: chain/ and below, never cli/, never each other', async () => {
    const ok = "import { Chain } from '../chain/chain.js';\nimport type { GreylistStore } from '../store/greylist/store.js';\nexport type A = [Chain, GreylistStore];\n";
    expect(await layerErrors(eslint, 'src/smtp/session.ts', ok)).toEqual([]);
    expect(await layerErrors(eslint, 'src/delivery/local.ts', "import { spool } from '../queue/spool.js';\nexport const s = spool;\n")).toEqual([
      "delivery/ must not import queue/: services meet only through store/ interfaces: '../queue/spool.js'",
    ]);
    expect(await layerErrors(eslint, 'src/imap/server.ts', "import { main } from '../cli/main.js';\nexport const m = main;\n")).toEqual([
      "imap/ must not import cli/, a layer above it (dependencies point down only: see eslint.layers.js): '../cli/main.js'",
    ]);
  });

  it('code of src/ imports the file that defines a name, never a public entry point', async () => {
    expect(await layerErrors(eslint, 'src/chain/chain.ts', "import { defineFilter } from '../mail/index.js';\nexport const d = defineFilter;\n")).toEqual([
      "mail/index.ts is a public entry point: import the file that defines the name: '../mail/index.js'",
    ]);
    expect(await layerErrors(eslint, 'src/milter/server.ts', "import type { Filter } from './index.js';\nexport type F = Filter;\n")).toHaveLength(1);
    // An entry point may re-export another (each of them carries the Filter vocabulary).
    expect(await layerErrors(eslint, 'src/chain/index.ts', "export * from '../mail/index.js';\n")).toEqual([]);
  });

  it('a new folder of src/ must first be given its place', async () => {
    expect(await layerErrors(eslint, 'src/newthing/a.ts', "import { x } from '../config/index.js';\nexport const y = x;\n")).toEqual([
      "src/newthing/ has no place in the layers: add it to eslint.layers.js: '../config/index.js'",
    ]);
  });

  it("the package's own name is refused in src/ (it resolves to dist/, past the layers)", async () => {
    const code = "import { Chain } from 'mailgate/chain';\nexport { defineFilter } from 'mailgate';\nexport type C = import('mailgate/chain').Chain;\nexport const c = Chain;\n";
    const errors = await layerErrors(eslint, 'src/config/zz.ts', code);
    const why = 'src/ must not import the package by its own name (it resolves to dist/, past the layers): import the file that defines the name';
    expect(errors).toEqual([`${why}: 'mailgate/chain'`, `${why}: 'mailgate'`, `${why}: 'mailgate/chain'`]);
    // A package whose name merely starts with it is someone else's.
    expect(await layerErrors(eslint, 'src/config/zz.ts', "import x from 'mailgate-extra';\nexport const y = x;\n")).toEqual([]);
  });

  it('src/ holds .ts files only: a .mts, .cts or .tsx file (tsc compiles them too) is refused, and its imports checked', async () => {
    for (const ext of ['mts', 'cts', 'tsx', 'js']) {
      const errors = await layerErrors(eslint, `src/config/zz.${ext}`, "export { main } from '../cli/main.js';\n");
      expect(errors, ext).toEqual([
        `src/ holds .ts files only (ESM, checked by the layers): rename config/zz.${ext}`,
        "config/ must not import cli/, a layer above it (dependencies point down only: see eslint.layers.js): '../cli/main.js'",
      ]);
    }
    const cjs = "import m = require('../cli/main.js');\nexport const x = [m, require('../milter/spec.js')];\n";
    expect(await layerErrors(eslint, 'src/config/zz.cts', cjs)).toEqual([
      'src/ holds .ts files only (ESM, checked by the layers): rename config/zz.cts',
      "config/ must not import cli/, a layer above it (dependencies point down only: see eslint.layers.js): '../cli/main.js'",
      "config/ must not import milter/, a layer above it (dependencies point down only: see eslint.layers.js): '../milter/spec.js'",
    ]);
  });

  it('import() of a template literal is checked like a string; a computed specifier is refused', async () => {
    expect(await layerErrors(eslint, 'src/config/zz.ts', 'export const later = () => import(`../cli/main.js`);\n')).toEqual([
      "config/ must not import cli/, a layer above it (dependencies point down only: see eslint.layers.js): '../cli/main.js'",
    ]);
    expect(await layerErrors(eslint, 'src/config/zz.ts', "const dir = '../cli';\nexport const later = () => import(`${dir}/main.js`);\n")).toEqual([
      'import() in src/ takes a string literal, so that the layer check sees what it loads',
    ]);
    expect(await layerErrors(eslint, 'src/config/zz.ts', 'export const later = () => import(`./defaults.js`);\n')).toEqual([]);
  });

  it('createRequire is refused in src/, however it is reached', async () => {
    const why = 'createRequire is not used in src/: a require() is a dependency the layer check cannot follow; use import';
    const named = "import { createRequire } from 'node:module';\nexport const m = createRequire(import.meta.url)('../cli/main.js');\n";
    expect(await layerErrors(eslint, 'src/config/zz.ts', named)).toEqual([why]);
    const member = "import * as nodeModule from 'node:module';\nexport const m = nodeModule.createRequire(import.meta.url)('../cli/main.js');\n";
    expect(await layerErrors(eslint, 'src/config/zz.ts', member)).toEqual([why]);
    const destructured = "const { createRequire } = await import('node:module');\nexport const m = createRequire(import.meta.url)('../cli/main.js');\n";
    expect(await layerErrors(eslint, 'src/config/zz.ts', destructured)).toEqual([why]);
    expect(await layerErrors(eslint, 'bench/zz.ts', named)).toEqual([]);
  });

  it('the package root imports any folder but cli/; bench/ and test/ import anything', async () => {
    expect(await layerErrors(eslint, 'src/index.ts', "export * from './chain/index.js';\nexport * from './cli/main.js';\n")).toEqual([
      "the package root must not import cli/ (the command line is not the library): './cli/main.js'",
    ]);
    const anything = "import { main } from '../src/cli/main.js';\nimport { readCString } from '../src/milter/codec.js';\nexport const a = [main, readCString];\n";
    expect(await layerErrors(eslint, 'bench/anything.ts', anything)).toEqual([]);
    expect(await layerErrors(eslint, 'test/anything.test.ts', anything)).toEqual([]);
  });
});

describe('the layer table', () => {
  const at = (from: string, to: string) => layerViolation(SRC, join(SRC, from, 'a.ts'), join(SRC, to, 'b.ts'));

  it('each folder imports its own and lower folders only; services never each other', () => {
    const folders = Object.keys(LAYERS);
    for (const a of folders) {
      for (const b of folders) {
        const allowed = a === b || (LAYERS[b]! < LAYERS[a]! && !(SERVICES.includes(a) && SERVICES.includes(b)));
        expect(at(a, b) === undefined, `${a}/ → ${b}/`).toBe(allowed);
      }
    }
  });

  it('holds the order config → mail → store → milter → filters → chain → services → cli', () => {
    const order = ['config', 'mail', 'store', 'milter', 'filters', 'chain', 'smtp', 'cli'];
    for (let i = 1; i < order.length; i++) expect(LAYERS[order[i]!]!).toBeGreaterThan(LAYERS[order[i - 1]!]!);
    for (const s of SERVICES) expect(LAYERS[s]).toBe(LAYERS['smtp']);
  });

  it('every file and import of src/ as it is today obeys it (the same check as lint, without ESLint)', () => {
    const violations: string[] = [];
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const files = walk(SRC);
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const where = file.slice(ROOT.length + 1);
      const bad = fileViolation(SRC, file);
      if (bad !== undefined) violations.push(`${where}: ${bad}`);
      const text = readFileSync(file, 'utf8');
      if (/\bcreateRequire\b/.test(text)) violations.push(`${where}: uses createRequire`);
      for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
        const why = specifierViolation(SRC, file, fileName);
        if (why !== undefined) violations.push(`${where}: ${why}: '${fileName}'`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the walk above would see each way around the layers', () => {
    const at = join(SRC, 'config', 'zz.ts');
    expect(specifierViolation(SRC, at, 'mailgate/chain')).toMatch(/by its own name/);
    expect(specifierViolation(SRC, at, 'mailgate')).toMatch(/by its own name/);
    expect(specifierViolation(SRC, at, '../cli/main.js')).toMatch(/^config\/ must not import cli\//);
    expect(specifierViolation(SRC, at, 'node:fs')).toBeUndefined();
    for (const ext of ['mts', 'cts', 'tsx']) expect(fileViolation(SRC, join(SRC, 'config', `zz.${ext}`))).toMatch(/holds \.ts files only/);
    expect(fileViolation(SRC, at)).toBeUndefined();
    const found = ts.preProcessFile('export const later = () => import(`../cli/main.js`);\nrequire("../milter/spec.js");\n', true, true).importedFiles;
    expect(found.map((f) => f.fileName)).toEqual(['../cli/main.js', '../milter/spec.js']);
  });
});
