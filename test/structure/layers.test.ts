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
import { LAYERS, layerViolation, SERVICES } from '../../eslint.layers.js';

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

  it('every import of src/ as it is today obeys it (the same check as lint, without ESLint)', () => {
    const violations: string[] = [];
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const files = walk(SRC);
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        if (!fileName.startsWith('.')) continue;
        const why = layerViolation(SRC, file, resolve(dirname(file), fileName));
        if (why !== undefined) violations.push(`${file.slice(ROOT.length + 1)}: ${why}: '${fileName}'`);
      }
    }
    expect(violations).toEqual([]);
  });
});
