/**
 * Dovecot 2.3's imap binary in preauth mode over a temp Maildir++ (separator "/", the special-use folders),
 * fed through a FIFO so that commands go one at a time over real pipes: the other side of the differential
 * tests in test/imap/commands/. Runs as the mail user (uid 8), so the tests run as root. Shared by
 * dovecot-diff.test.ts and qresync-dovecot-diff.test.ts.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { access, chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';
import type { Client } from './transcript.js';
import { chownTree, MAIL_UID } from '../../interop/harness/chown-tree.js';

export const DOVECOT_IMAP = '/usr/lib/dovecot/imap';

export class PreauthDovecot {
  private buf = '';
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private constructor(
    private readonly child: ChildProcess,
    private readonly input: WriteStream,
    private readonly tmp: TempDir,
    /** Made by start() (removes the directory at stop), not by another(). */
    private readonly owner: boolean,
  ) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) !== -1) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
      this.wake?.();
    });
  }

  /** A private Dovecot with `conf` (dovecot.conf text), its PREAUTH greeting already read. */
  static async start(prefix: string, conf: string): Promise<PreauthDovecot> {
    if (process.getuid?.() !== 0) throw new Error('this test runs Dovecot as the mail user and must run as root');
    await access(DOVECOT_IMAP).catch(() => {
      throw new Error(`${DOVECOT_IMAP} is missing: install dovecot-imapd (scripts/install-test-peers.sh)`);
    });
    const tmp = await makeTempDir(prefix);
    const confPath = join(tmp.path, 'dovecot.conf');
    await writeFile(confPath, conf);
    await chownTree(await tmp.sub('mail'));
    await chown(await tmp.sub('home'), MAIL_UID, MAIL_UID);
    return PreauthDovecot.spawn(tmp, 'in.fifo', true);
  }

  /** A second session of the same user on the same Maildir (another imap process, as Dovecot runs one per connection). */
  another(): Promise<PreauthDovecot> {
    return PreauthDovecot.spawn(this.tmp, `in${Date.now()}.fifo`, false);
  }

  private static async spawn(tmp: TempDir, fifoName: string, owner: boolean): Promise<PreauthDovecot> {
    const fifo = join(tmp.path, fifoName);
    execFileSync('mkfifo', ['-m', '0600', fifo]);
    const maildir = join(tmp.path, 'mail');
    const args = ['-c', join(tmp.path, 'dovecot.conf'), '-o', `mail_location=maildir:${maildir}:LAYOUT=maildir++`, '-o', 'mail_uid=8', '-o', 'mail_gid=8', '-o', 'first_valid_uid=1', '-o', 'first_valid_gid=1'];
    const child = spawn('/bin/sh', ['-c', 'f="$1"; shift; cat "$f" | "$@" 2>/dev/null | cat', 'sh', fifo, DOVECOT_IMAP, ...args], {
      env: { USER: 'alice', HOME: join(tmp.path, 'home'), PATH: '/usr/bin:/bin', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const dovecot = new PreauthDovecot(child, createWriteStream(fifo), tmp, owner);
    const greeting = await dovecot.line();
    if (!greeting.startsWith('* PREAUTH ')) throw new Error(`Dovecot greeted with ${greeting}`);
    return dovecot;
  }

  async line(): Promise<string> {
    const deadline = Date.now() + 10_000;
    while (this.lines.length === 0) {
      if (Date.now() > deadline) throw new Error('Dovecot did not answer');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.lines.shift()!;
  }

  /** Sends one command (LITERAL+ only) and reads up to its tagged reply. */
  async command(text: string, tag: string): Promise<string[]> {
    this.input.write(`${text}\r\n`);
    const out: string[] = [];
    for (;;) {
      const line = await this.line();
      out.push(line);
      if (line.startsWith(`${tag} `)) return out;
    }
  }

  async stop(): Promise<void> {
    this.input.end();
    this.child.kill('SIGTERM');
    if (this.owner) await this.tmp.remove();
  }
}

/** The same for a Mailgate transcript client. */
export async function mailgateCommand(c: Client, text: string, tag: string): Promise<string[]> {
  c.send(`${text}\r\n`);
  const out: string[] = [];
  for (;;) {
    const line = await c.line();
    out.push(line);
    if (line.startsWith(`${tag} `)) return out;
  }
}

