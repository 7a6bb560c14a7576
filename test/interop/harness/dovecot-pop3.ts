// A private Dovecot with its POP3 service (Debian's dovecot-pop3d) on loopback, for the POP3 differential
// test: startDovecot (harness/dovecot.ts) with `protocols` extended by pop3 and a pop3-login listener on a
// free port (the later `protocols` line in the config wins), and a Maildir prepared so that Dovecot's UIDs
// and UIDVALIDITY are chosen by the test: the message files in cur/ and a dovecot-uidlist (version 3 header
// `3 V<uidvalidity> N<uidnext>`, one `<uid> :<file name>` line per message) written before it starts.
import { access, constants, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDovecot, type Dovecot } from './dovecot.js';
import { freePorts } from './ports.js';
import { waitFor } from './process.js';
import { tcpListening } from './endpoint.js';

export interface DovecotPop3 {
  readonly dovecot: Dovecot;
  readonly pop3Port: number;
  stop(): Promise<void>;
}

/** Throws a clear error when dovecot-pop3d is missing (the test never skips). */
export async function requireDovecotPop3(): Promise<void> {
  for (const bin of ['/usr/lib/dovecot/pop3', '/usr/lib/dovecot/pop3-login']) {
    try {
      await access(bin, constants.X_OK);
    } catch {
      throw new Error(`${bin} is missing: install dovecot-pop3d (scripts/install-test-peers.sh, as root)`);
    }
  }
}

/** CRLF size: every LF not preceded by CR counts one more (Maildir's W=). */
function crlfSize(bytes: Buffer): number {
  let size = bytes.length;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) if (i === 0 || bytes[i - 1] !== 13) size++;
  return size;
}

/** Writes `messages` as UIDs 1..n of a Maildir with the given UIDVALIDITY (flags none). */
export async function writeMaildir(maildir: string, messages: readonly Buffer[], uidValidity: number): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true, mode: 0o755 });
  const lines = [`3 V${uidValidity} N${messages.length + 1}`];
  for (const [i, content] of messages.entries()) {
    const base = `${1_700_000_000 + i}.M${i + 1}P1.test,S=${content.length},W=${crlfSize(content)}`;
    await writeFile(join(maildir, 'cur', `${base}:2,`), content, { mode: 0o644 });
    lines.push(`${i + 1} :${base}`);
  }
  await writeFile(join(maildir, 'dovecot-uidlist'), lines.join('\n') + '\n', { mode: 0o644 });
}

export async function startDovecotPop3(users: { name: string; password: string; maildir: string }[]): Promise<DovecotPop3> {
  await requireDovecotPop3();
  const [pop3Port, imap, lmtp] = (await freePorts(3)) as [number, number, number];
  const rootless = process.getuid?.() !== 0;
  const dovecot = await startDovecot({
    users,
    ports: { imap, lmtp },
    extra: `protocols = imap lmtp pop3
pop3_uidl_format = %08Xu%08Xv
service pop3-login {${rootless ? '\n  chroot =' : ''}
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
`,
  });
  try {
    await waitFor(`dovecot pop3 on 127.0.0.1:${pop3Port}`, async () => ((await tcpListening(pop3Port)) ? true : undefined), {
      daemon: dovecot.daemon,
      timeoutMs: 15_000,
      diagnostics: async () => `--- ${dovecot.logFile} ---\n${await dovecot.log()}`,
    });
  } catch (e) {
    await dovecot.stop();
    throw e;
  }
  return { dovecot, pop3Port, stop: () => dovecot.stop() };
}
