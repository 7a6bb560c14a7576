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
 *
 * Every way around the check is refused in src/, so that it sees each dependency: the package's own name
 * (`mailgate`, `mailgate/chain` resolve to dist/ through "exports", any layer), an import() whose
 * specifier is not a plain string, createRequire (a require() the check cannot follow), and source files
 * other than .ts (tsc also compiles .mts, .cts and .tsx; src/ is ESM .ts only).
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

/** The package's own name: a self-reference resolves through package.json "exports", past the layers. */
export const PACKAGE_NAME = 'mailgate';

/** The source files src/ may hold: tsc would compile .mts/.cts/.tsx too, as another module kind. */
export const SOURCE_EXTENSION = '.ts';

/**
 * Why `from` (a file of src/) may not import the module specifier `specifier`, or undefined when it may:
 * the package's own name never; a relative specifier by the layers; a package or node: module always.
 */
export function specifierViolation(srcDir, from, specifier) {
  if (layerOf(srcDir, from) === undefined) return undefined;
  if (specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`)) {
    return `src/ must not import the package by its own name (it resolves to dist/, past the layers): import the file that defines the name`;
  }
  if (specifier.startsWith('.')) return layerViolation(srcDir, from, resolve(dirname(from), specifier));
  if (specifier.startsWith('/') || specifier.startsWith('file:')) return 'src/ imports by relative path, never by absolute path';
  return undefined;
}

/** Why a file of src/ may not exist under this name (an extension other than .ts), or undefined. */
export function fileViolation(srcDir, file) {
  if (layerOf(srcDir, file) === undefined || file.endsWith(SOURCE_EXTENSION)) return undefined;
  return `src/ holds ${SOURCE_EXTENSION} files only (ESM, checked by the layers): rename ${relative(srcDir, file)}`;
}

const CREATE_REQUIRE = 'createRequire is not used in src/: a require() is a dependency the layer check cannot follow; use import';
const DYNAMIC_IMPORT = 'import() in src/ takes a string literal, so that the layer check sees what it loads';

/** The string value of a specifier node: a string literal or a template literal without substitutions. */
function staticString(node) {
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0].value.cooked;
  return undefined;
}

/**
 * The ESLint rule, for every file of src/: each import, export ... from, import(), import('...').Type,
 * import x = require(), require(); no createRequire; no file other than .ts.
 */
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
      if (typeof source !== 'string') return;
      const message = specifierViolation(srcDir, file, source);
      if (message !== undefined) context.report({ node, message: `${message}: '${source}'` });
    };
    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      Program: (node) => {
        const message = fileViolation(srcDir, file);
        if (message !== undefined) context.report({ node, message });
      },
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => {
        const source = staticString(node.source);
        if (source === undefined) context.report({ node, message: DYNAMIC_IMPORT });
        else check(node.source, source);
      },
      TSImportType: (node) => {
        // typescript-eslint 8: `source` (a string literal); older: `argument` (a TSLiteralType).
        const lit = node.source ?? (node.argument && node.argument.type === 'TSLiteralType' ? node.argument.literal : undefined);
        if (lit && lit.type === 'Literal') check(lit, lit.value);
      },
      // import x = require('...') (TypeScript's CommonJS form) and a bare require('...').
      TSExternalModuleReference: (node) => {
        if (node.expression.type === 'Literal') check(node.expression, node.expression.value);
      },
      CallExpression: (node) => {
        if (node.callee.type !== 'Identifier' || node.callee.name !== 'require' || node.arguments.length === 0) return;
        const source = staticString(node.arguments[0]);
        if (source === undefined) context.report({ node, message: 'require() in src/ takes a string literal' });
        else check(node.arguments[0], source);
      },
      // createRequire however it is reached: imported by name, or as a property of node:module.
      'ImportSpecifier[imported.name="createRequire"]': (node) => context.report({ node, message: CREATE_REQUIRE }),
      'MemberExpression[property.name="createRequire"]': (node) => context.report({ node, message: CREATE_REQUIRE }),
      'Property[key.name="createRequire"]': (node) => context.report({ node, message: CREATE_REQUIRE }),
    };
  },
};

export const layersPlugin = { rules: { layers: rule } };
