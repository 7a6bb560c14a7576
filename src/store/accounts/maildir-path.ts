/**
 * Where a user's Maildir is: `<data_dir>/mail/<domain>/<localpart>`, lower-cased. The address is checked
 * again here (no `/`, no `..`, no NUL: address.ts refuses them) and the result must lie under the mail
 * root, so that no stored or forged name can make delivery write outside it.
 */
import { join, resolve, sep } from 'node:path';
import { parseAccountAddress } from './address.js';

export function maildirPath(dataDir: string, user: string): string {
  const a = parseAccountAddress(user);
  if (typeof a === 'string') throw new Error(`no Maildir for ${JSON.stringify(user)}: ${a}`);
  const root = resolve(dataDir, 'mail');
  const dir = join(root, a.domain, a.local);
  if (!dir.startsWith(root + sep) || dir !== resolve(dir)) throw new Error(`no Maildir for ${JSON.stringify(user)}: outside ${root}`);
  return dir;
}
