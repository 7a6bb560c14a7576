/**
 * The layers of src/ (docs/architecture.md), checked by `npm run lint`: dependencies point down only.
 *
 *   cli/                                          commands; may import every folder below
 *   smtp/ queue/ delivery/ imap/ pop3/ web/       services; chain/ and below, never cli/, never each other
 *                                                 (they meet only through store/ interfaces)
 *   chain/                                        the manager
 *   filters/                                      built-in filters
 *   milter/                                       the wire
 *   store/                                        persistence; may use mail/'s types (it keeps its values)
 *   mail/                                         shared vocabulary; nothing above config/
 *   config/                                       the bottom: imports no other folder of src/
 *
 * src/index.ts, the package root, re-exports the library and may import any folder but cli/. A folder
 * of src/ missing from LAYERS is an error until it is given its place here. bench/ and test/ may import
 * anything. Type-only imports count: a type names the folder it comes from just as much.
 *
 * The public entry points (PUBLIC_INDEXES: package.json "exports") are for users of the package: code
 * of src/ imports the specific file, so that trimming an entry point never breaks the inside; only
 * another entry point may re-export one.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** src/ of this repository (this file sits at its root), whatever directory ESLint runs from. */
const SRC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'src');

/** Folder of src/ → rank; a file may import from its own folder and from folders of lower rank. */
export const LAYERS = {
  config: 0,
  mail: 1,
  store: 2,
  milter: 3,
  filters: 4,
  chain: 5,
  smtp: 6,
  queue: 6,
  delivery: 6,
  imap: 6,
  pop3: 6,
  web: 6,
  cli: 7,
};

export const SERVICES = ['smtp', 'queue', 'delivery', 'imap', 'pop3', 'web'];

/** The files behind package.json "exports" (and the vocabulary they share), relative to src/. */
export const PUBLIC_INDEXES = ['index.ts', 'mail/index.ts', 'milter/index.ts', 'chain/index.ts'];

const isPublicIndex = (srcDir, file) => PUBLIC_INDEXES.includes(relative(srcDir, file.replace(/\.js$/, '.ts')).split(sep).join('/'));

/** Where `file` sits: its top folder under src/, 'root' for a file directly in src/, or undefined outside src/. */
export function layerOf(srcDir, file) {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  return parts.length === 1 ? 'root' : parts[0];
}

/**
 * Why `from` (a file) may not import `to` (the resolved path of a relative import), or undefined when it
 * may. Both are absolute paths; `srcDir` is the absolute path of src/.
 */
export function layerViolation(srcDir, from, to) {
  const a = layerOf(srcDir, from);
  if (a === undefined) return undefined; // bench/, test/, tools: anything
  const b = layerOf(srcDir, to);
  if (b === undefined) return `src/ must not import from outside src/ (${relative(dirname(srcDir), to)})`;
  if (a !== 'root' && !Object.hasOwn(LAYERS, a)) return `src/${a}/ has no place in the layers: add it to eslint.layers.js`;
  if (b === 'root') return a === 'root' ? undefined : 'only the package root imports src/index.ts';
  if (!Object.hasOwn(LAYERS, b)) return `src/${b}/ has no place in the layers: add it to eslint.layers.js`;
  if (isPublicIndex(srcDir, to) && !isPublicIndex(srcDir, from)) {
    return `${relative(srcDir, to.replace(/\.js$/, '.ts'))} is a public entry point: import the file that defines the name`;
  }
  if (a === 'root') return b === 'cli' ? 'the package root must not import cli/ (the command line is not the library)' : undefined;
  if (a === b) return undefined;
  if (SERVICES.includes(a) && SERVICES.includes(b)) {
    return `${a}/ must not import ${b}/: services meet only through store/ interfaces`;
  }
  if (LAYERS[b] > LAYERS[a]) return `${a}/ must not import ${b}/, a layer above it (dependencies point down only: see eslint.layers.js)`;
  if (LAYERS[b] === LAYERS[a]) return `${a}/ must not import ${b}/, a folder of the same layer`;
  return undefined;
}

/** The ESLint rule: every relative import, export ... from, import() and import('...').Type of a file in src/. */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'dependencies between the folders of src/ point down only (eslint.layers.js)' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const srcDir = SRC_DIR;
    if (layerOf(srcDir, file) === undefined) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const message = layerViolation(srcDir, file, resolve(dirname(file), source));
      if (message !== undefined) context.report({ node, message: `${message}: '${source}'` });
    };
    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
      TSImportType: (node) => {
        // typescript-eslint 8: `source` (a string literal); older: `argument` (a TSLiteralType).
        const lit = node.source ?? (node.argument && node.argument.type === 'TSLiteralType' ? node.argument.literal : undefined);
        if (lit && lit.type === 'Literal') check(lit, lit.value);
      },
    };
  },
};

export const layersPlugin = { rules: { layers: rule } };
