/**
 * bench:imap's reference server: a private Dovecot 2.3 (test/interop/harness/dovecot.ts, the instance the
 * differential tests use) on a hard-linked copy of the corpus, its indexes in the Maildir (Dovecot's
 * default) and empty at start. The password is stored as `doveadm pw` makes one by default (SHA512-CRYPT),
 * as an administrator would. Per-user limits are lifted as they are for Mailgate (500 idle connections and
 * 50 concurrent clients of one user from one address): mail_max_userip_connections is 10 by default.
 */
import { join } from 'node:path';
import { dovecotHash, startDovecot } from '../../test/interop/harness/dovecot.js';
import { makeTempDir } from '../../test/interop/harness/tmpdir.js';
import { treeCpuMs, treePssKb } from './memory.js';
import { BENCH_PASSWORD, BENCH_USER, linkCopy, type ImapUnderTest } from './target.js';

const EXTRA = `
protocol imap {
  mail_max_userip_connections = 2000
}
service imap {
  process_limit = 2000
}
default_client_limit = 4000
`;

export async function startDovecotUnderTest(corpusDir: string, hash: string): Promise<ImapUnderTest> {
  const tmp = await makeTempDir('bench-imap-dovecot');
  const maildir = join(tmp.path, 'Maildir');
  // Its indexes live in the Maildir (Dovecot's default), so a restart keeps them.
  const start = () => startDovecot({ users: [{ name: BENCH_USER, password: hash, maildir }], extra: EXTRA });
  try {
    await linkCopy(corpusDir, maildir);
    let dovecot = await start();
    return {
      name: 'dovecot',
      get port() {
        return dovecot.imapPort;
      },
      user: BENCH_USER,
      password: BENCH_PASSWORD,
      memoryKb: async () => (await treePssKb(dovecot.daemon.pid)).kb,
      cpuMs: () => treeCpuMs(dovecot.daemon.pid),
      restart: async () => {
        await dovecot.stop();
        dovecot = await start();
      },
      stop: async () => {
        await dovecot.stop();
        await tmp.remove();
      },
    };
  } catch (err) {
    await tmp.remove();
    throw err;
  }
}

/** The password as `doveadm pw` stores it by default: what both servers get with --hash sha512-crypt. */
export const sha512CryptHash = (): string => dovecotHash(BENCH_PASSWORD, 'SHA512-CRYPT');
