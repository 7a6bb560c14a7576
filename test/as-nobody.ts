/**
 * Calls a function of the built package (dist/) in a child node process that gives up root for nobody
 * (uid and gid 65534) first: a permission check means nothing as root, which may write anywhere, and CI runs
 * the tests as root. The module is loaded before privileges are dropped, so the checkout need not be
 * readable by nobody; what the function touches must be. A dist/ older than the sources is refused (dist.ts).
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { builtModule } from './dist.js';

const NOBODY = 65534;

const CHILD = `
const [url, name, calls] = JSON.parse(process.argv[1]);
const fn = (await import(url))[name];
process.setgroups([]);
process.setgid(${NOBODY});
process.setuid(${NOBODY});
const results = [];
for (const args of calls) results.push((await fn(...args)) ?? null);
process.stdout.write(JSON.stringify({ uid: process.getuid(), results }));
`;

/** `name` of dist/`module` called once per argument list, as nobody; undefined results come back as null. */
export function callAsNobody(module: string, name: string, calls: unknown[][]): unknown[] {
  const file = builtModule(module);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, JSON.stringify([pathToFileURL(file).href, name, calls])], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(`the child as nobody failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { uid: number; results: unknown[] };
  if (out.uid !== NOBODY) throw new Error(`the child ran as uid ${out.uid}, not nobody`);
  return out.results;
}
