// The Maildir store against the shared contract suite, each store on a fresh temp data directory.
import { join } from 'node:path';
import { openMaildirMailboxStore } from '../../../src/store/mailbox/open.js';
import { makeTempDir } from '../../interop/harness/tmpdir.js';
import { mailboxStoreContract } from './contract.js';

mailboxStoreContract('maildir', async (options) => {
  const tmp = await makeTempDir('maildir-contract');
  const store = openMaildirMailboxStore({ maildirOf: (user) => join(tmp.path, 'mail', encodeURIComponent(user)), hostname: 'mx.example.org', ...options });
  return { store, cleanup: () => tmp.remove() };
});
