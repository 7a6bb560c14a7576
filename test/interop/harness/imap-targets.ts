// The two IMAP servers the real-client tests run against, behind one shape: Mailgate (`mailgate start`,
// mail delivered by its MX) and a private Dovecot 2.3 (mail delivered over its LMTP), each with one user.
// The same client script against both tells a client's quirk from a server bug: when a test fails only on
// Mailgate, Mailgate is at fault. Dovecot gets the special-use folders (auto-subscribed, as Mailgate makes
// them for every user) and `/` as the hierarchy separator, as Mailgate has; it runs without TLS (the harness's
// `ssl = no`), so TLS modes are Mailgate-only. Both announce COMPRESS=DEFLATE after login (Dovecot's imap_zlib).
import { join } from 'node:path';
import { makeMta, type Mta, type MtaOptions } from './mta.js';
import { startDovecot, type Dovecot } from './dovecot.js';
import { makeTempDir, type TempDir } from './tmpdir.js';
import { swaksRaw } from './swaks.js';
import { describeResult, waitFor } from './process.js';

export type ImapServerName = 'mailgate' | 'dovecot';

export interface ImapTarget {
  readonly name: ImapServerName;
  readonly user: string;
  readonly password: string;
  readonly imapPort: number;
  /** Implicit TLS ([imap] tls_listen); Mailgate only. */
  readonly imapsPort?: number;
  /** Mailgate only: the running MTA (its log, POP3 ports...). */
  readonly mta?: Mta;
  /**
   * Delivers one message to the user through the server's own delivery (Mailgate's MX, Dovecot's LMTP) and
   * waits until it is in INBOX's Maildir (found by its subject: keep subjects unique).
   */
  deliver(msg: { subject: string; body?: string; from?: string; headers?: readonly string[] }): Promise<void>;
  stop(): Promise<void>;
}

export const TEST_USER = 'alice@localhost';
export const TEST_PASSWORD = 'wonderland-42';

/** Dovecot's namespace as Mailgate's: `/` separator, the four special-use folders made and subscribed. */
export const DOVECOT_SPECIAL_USE = `
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}
`;

/**
 * COMPRESS=DEFLATE after login (RFC 4978), as Mailgate announces it: Dovecot's imap_zlib plugin, so a client
 * that compresses when it can (imapflow, mbsync) does so against both servers.
 */
export const DOVECOT_COMPRESS = `
protocol imap {
  mail_plugins = $mail_plugins imap_zlib
}
`;

function swaksArgs(to: string, msg: { subject: string; body?: string; from?: string; headers?: readonly string[] }): string[] {
  const args = ['--from', msg.from ?? 'someone@example.org', '--to', to, '--header', `Subject: ${msg.subject}`];
  for (const h of msg.headers ?? []) args.push('--header', h);
  if (msg.body !== undefined) args.push('--body', msg.body);
  return args;
}

export async function startMailgateTarget(opts: MtaOptions = {}): Promise<ImapTarget> {
  const mta = await makeMta(opts);
  await mta.addUser(TEST_USER, TEST_PASSWORD);
  await mta.start();
  return {
    name: 'mailgate',
    user: TEST_USER,
    password: TEST_PASSWORD,
    imapPort: mta.imapPort,
    imapsPort: mta.imapsPort,
    mta,
    async deliver(msg) {
      const r = await swaksRaw(['--server', `127.0.0.1:${mta.mxPort}`, ...swaksArgs(TEST_USER, msg)]);
      if (r.exitCode !== 0) throw new Error(`swaks to mailgate's MX failed: ${describeResult(r)}`);
      // The queue delivers after the 250: wait for the file in INBOX (its subject: a count would be fooled by
      // messages a client moved out of INBOX meanwhile).
      await waitFor(`"${msg.subject}" in ${TEST_USER}'s INBOX`, async () => ((await mta.maildir(TEST_USER)).some((m) => m.includes(`Subject: ${msg.subject}\r\n`) || m.includes(`Subject: ${msg.subject}\n`)) ? true : undefined), {
        daemon: mta.daemon(),
        timeoutMs: 20_000,
        intervalMs: 50,
      });
    },
    stop: () => mta.remove(),
  };
}

export async function startDovecotTarget(): Promise<ImapTarget & { readonly dovecot: Dovecot; readonly maildir: string }> {
  const dir: TempDir = await makeTempDir('dovecot-target');
  const maildir = join(dir.path, 'Maildir');
  let dovecot: Dovecot;
  try {
    dovecot = await startDovecot({ users: [{ name: TEST_USER, password: TEST_PASSWORD, maildir }], extra: DOVECOT_SPECIAL_USE + DOVECOT_COMPRESS });
  } catch (err) {
    await dir.remove();
    throw err;
  }
  return {
    name: 'dovecot',
    user: TEST_USER,
    password: TEST_PASSWORD,
    imapPort: dovecot.imapPort,
    dovecot,
    maildir,
    async deliver(msg) {
      const r = await swaksRaw(['--protocol', 'LMTP', '--server', `127.0.0.1:${dovecot.lmtpPort}`, ...swaksArgs(TEST_USER, msg)]);
      if (r.exitCode !== 0) throw new Error(`swaks to Dovecot's LMTP failed: ${describeResult(r)}\n--- dovecot log ---\n${await dovecot.log()}`);
    },
    async stop() {
      await dovecot.stop();
      await dir.remove();
    },
  };
}

export function startTarget(name: ImapServerName): Promise<ImapTarget> {
  return name === 'mailgate' ? startMailgateTarget() : startDovecotTarget();
}
