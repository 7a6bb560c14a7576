/**
 * The top-level data_dir: one directory shared by every service that keeps state (greylist today; the
 * queue, mailboxes and accounts later). `[manager] data_dir`, where it used to be, is still read, with a
 * deprecation warning naming the new key.
 */
import { DEFAULT_DATA_DIR } from '../defaults.js';
import { resolvePath } from '../paths.js';
import type { TableReader } from '../reader.js';

/** Read from the root table and [manager]; the result is absolute (relative: to `baseDir`). */
export function readDataDir(root: TableReader, manager: TableReader, baseDir: string, warn: (message: string) => void): string {
  const top = root.optionalNonEmptyString('data_dir', 'a directory path');
  const old = manager.optionalNonEmptyString('data_dir', 'a directory path');
  const ctx = root.ctx;
  if (old !== undefined) {
    const oldLine = ctx.locator.line(manager.keyPath('data_dir'));
    if (top !== undefined) {
      const topLine = ctx.locator.line('data_dir');
      if (resolvePath(baseDir, top) !== resolvePath(baseDir, old)) {
        throw manager.error(
          'data_dir',
          `[manager] data_dir (${JSON.stringify(old)}) and the top-level data_dir on line ${topLine} (${JSON.stringify(top)}) differ; keep only the top-level one`,
        );
      }
      warn(`${ctx.file}:${oldLine}: manager.data_dir: deprecated and the same as the top-level data_dir on line ${topLine}; remove it`);
    } else {
      warn(`${ctx.file}:${oldLine}: manager.data_dir: deprecated; write data_dir at the top level of the file, before any [table]`);
      // The effective value came from [manager]: show-config says so.
      ctx.origins.set('data_dir', ctx.originAt(manager.keyPath('data_dir'), true));
    }
  }
  return resolvePath(baseDir, top ?? old ?? DEFAULT_DATA_DIR);
}
