// `mailgate start` under the signals systemd sends, through the built CLI and real clients. SIGTERM: no new
// connection is accepted (SMTP nor milter), a client in the middle of DATA finishes its message and gets
// its 250 (the message is delivered, after a restart at the latest), a client that stalls is cut with 421
// at the grace timeout (SHUTDOWN_GRACE_SECONDS) and nothing of its message is queued; the process exits 0.
// SIGHUP: a [[milter]] added or changed applies to new sessions (a session already open keeps its chain),
// and a broken file keeps the running chain.
import { readFile, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_GRACE_SECONDS } from '../../src/cli/start.js';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { runCommand, waitFor, type CommandResult } from '../interop/harness/process.js';
import { readReplies, type SmtpReply } from '../interop/harness/smtp-reply.js';
import { acceptsConnection as accepts } from '../interop/harness/endpoint.js';

/** One SMTP client, step by step: each reply is awaited before the next command (hang guard only). */
class StepClient {
  private buf = Buffer.alloc(0);
  private replies: SmtpReply[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      const r = readReplies(this.buf);
      this.replies.push(...r.replies);
      this.buf = Buffer.from(r.rest);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<StepClient> {
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve).once('error', reject);
      socket.connect(port, '127.0.0.1');
    });
    return new StepClient(socket);
  }

  /** The next reply; rejects if the connection closes first or none comes within timeoutMs. */
  async reply(timeoutMs = 20_000): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed) throw new Error('connection closed without a reply');
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.replies.shift()!;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  async command(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Until the server closed the connection (hang guard). */
  async waitClosed(timeoutMs: number): Promise<void> {
    await waitFor('the server to close the connection', () => (this.closed ? true : undefined), { timeoutMs, intervalMs: 100 });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens a session up to the 354 of DATA, for alice@localhost. */
async function intoData(port: number, from = 'someone@example.org'): Promise<StepClient> {
  const c = await StepClient.connect(port);
  expect((await c.reply()).code).toBe(220);
  expect((await c.command('EHLO client.example')).code).toBe(250);
  expect((await c.command(`MAIL FROM:<${from}>`)).code).toBe(250);
  expect((await c.command('RCPT TO:<alice@localhost>')).code).toBe(250);
  expect((await c.command('DATA')).code).toBe(354);
  return c;
}


function swaks(port: number, subject: string): Promise<CommandResult> {
  return runCommand('/usr/bin/swaks', [
    '--timeout', '30s', '--helo', 'client.example', '--server', `127.0.0.1:${port}`,
    '--from', 'someone@example.org', '--to', 'alice@localhost', '--header', `Subject: ${subject}`,
  ], { timeoutMs: 45_000 });
}

const rulesChild = (pattern: string): string => `
[[milter]]
name = "rules"
builtin = "rules"
[[milter.rule]]
field = "header"
header = "Subject"
pattern = "${pattern}"
flags = "i"
action = "reject"
`;

let mta: Mta | undefined;
afterEach(async () => {
  await mta?.remove();
  mta = undefined;
});

describe('mailgate start: SIGTERM drains the SMTP sessions in flight', () => {
  it(
    'refuses new connections, lets a client in DATA finish with 250, cuts a stalled one with 421 at the grace timeout, exits 0',
    async () => {
      mta = await makeMta();
      await mta.addUser('alice@localhost', 'pw-alice-1');
      await mta.start();
      const daemon = mta.daemon();
      const finishing = await intoData(mta.mxPort);
      finishing.write('Subject: finishes after SIGTERM\r\nMessage-ID: <finishes@client.example>\r\n\r\nfirst half\r\n');
      const stalling = await intoData(mta.mxPort);
      stalling.write('Subject: stalls\r\nMessage-ID: <stalls@client.example>\r\n\r\npart of a body that never ends\r\n');

      process.kill(daemon.pid, 'SIGTERM');
      await waitFor('the shutdown to start', () => (/shutting down/.test(daemon.output()) ? true : undefined), { timeoutMs: 10_000 });
      // No new connection, on any listener, while the sessions in flight drain.
      for (const port of [mta.mxPort, mta.submissionPort, mta.tlsPort, mta.milterPort]) {
        await waitFor(`port ${port} (${port === mta.milterPort ? "milter" : "smtp"}) to refuse connections`, async () => ((await accepts(port)) ? undefined : true), { timeoutMs: 10_000, intervalMs: 100 });
      }
      expect(daemon.exitStatus(), 'still draining').toBeUndefined();

      finishing.write('second half\r\n.\r\n');
      const queued = await finishing.reply();
      expect(queued.code, queued.text).toBe(250);
      expect(queued.text).toMatch(/Ok: queued as [0-9A-Z]+/);
      // The session is over for anything else: a new command gets 421 and the connection ends.
      expect((await finishing.command('MAIL FROM:<again@example.org>')).code).toBe(421);
      await finishing.waitClosed(10_000);

      // The stalled client is cut at the grace timeout (hang guard: grace plus a margin).
      const cut = await stalling.reply((SHUTDOWN_GRACE_SECONDS + 20) * 1000);
      expect(cut.code).toBe(421);
      await stalling.waitClosed(10_000);
      const status = await daemon.exited;
      expect(status, daemon.output().slice(-3000)).toEqual({ code: 0, signal: null });
      expect(daemon.output()).toMatch(/"msg":"stopped"/);

      // Delivered (now, or from the queue at the next start); the stalled message was never queued.
      await mta.start();
      const [msg, ...more] = await mta.waitForMaildir('alice@localhost', 1);
      expect(msg).toContain('Subject: finishes after SIGTERM');
      expect(msg).toContain('second half');
      await new Promise((r) => setTimeout(r, 1000));
      expect(more).toEqual([]);
      expect(await mta.maildir('alice@localhost')).toHaveLength(1);
      const list = await mta.cli(['queue', 'list']);
      expect(list.stdout).not.toContain('stalls');
    },
    (SHUTDOWN_GRACE_SECONDS + 90) * 1000,
  );

  it('a second SIGTERM during the drain exits at once (status 1), as the README says', async () => {
    mta = await makeMta();
    await mta.addUser('alice@localhost', 'pw-alice-1');
    await mta.start();
    const daemon = mta.daemon();
    const stalling = await intoData(mta.mxPort);
    stalling.write('Subject: stalls\r\n\r\nnever ends\r\n');
    process.kill(daemon.pid, 'SIGTERM');
    await waitFor('the shutdown to start', () => (/shutting down/.test(daemon.output()) ? true : undefined), { timeoutMs: 10_000 });
    process.kill(daemon.pid, 'SIGTERM');
    // Hang guard well under the grace: the second signal does not wait for the stalled session.
    const status = await Promise.race([daemon.exited, new Promise((r) => setTimeout(() => r('still running'), (SHUTDOWN_GRACE_SECONDS * 1000) / 2))]);
    expect(status).toEqual({ code: 1, signal: null });
    expect(daemon.output()).toMatch(/second stop signal: exiting without waiting for the drain/);
    await stalling.waitClosed(10_000);
    expect(await mta.maildir('alice@localhost')).toEqual([]);
  }, 60_000);
});

describe('mailgate start: SIGHUP reloads the chain', () => {
  it('a [[milter]] added or changed applies to new sessions, a session already open keeps its chain, a broken file keeps the running one', async () => {
    mta = await makeMta();
    await mta.addUser('alice@localhost', 'pw-alice-1');
    await mta.start();
    const daemon = mta.daemon();
    const base = await readFile(mta.configFile, 'utf8');
    const reloads = (): number => daemon.output().match(/configuration reloaded/g)?.length ?? 0;
    const reload = async (text: string, logged: RegExp): Promise<void> => {
      await writeFile(mta!.configFile, text);
      const before = (daemon.output().match(new RegExp(logged.source, 'g')) ?? []).length;
      process.kill(daemon.pid, 'SIGHUP');
      await waitFor(`${logged} in the log`, () => ((daemon.output().match(new RegExp(logged.source, 'g')) ?? []).length > before ? true : undefined), {
        timeoutMs: 10_000,
        daemon,
      });
    };

    expect((await swaks(mta.mxPort, 'cheap watches')).stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);

    // A session opened before the reload finishes on the chain it started with.
    const open = await StepClient.connect(mta.mxPort);
    expect((await open.reply()).code).toBe(220);
    expect((await open.command('EHLO client.example')).code).toBe(250);

    await reload(`${base}${rulesChild('cheap')}`, /configuration reloaded: the chain/);
    expect(daemon.output()).toMatch(/"children":\["rules"\]/);
    const refused = await swaks(mta.mxPort, 'cheap watches again');
    expect(refused.stdout).toMatch(/<\*\* 550 5\.7\.1 Message refused by content rules/);

    expect((await open.command('MAIL FROM:<someone@example.org>')).code).toBe(250);
    expect((await open.command('RCPT TO:<alice@localhost>')).code).toBe(250);
    expect((await open.command('DATA')).code).toBe(354);
    open.write('Subject: cheap, but the session began before the reload\r\n\r\nbody\r\n.\r\n');
    expect((await open.reply()).code).toBe(250);
    await open.command('QUIT');
    open.destroy();

    // A broken file: the running configuration (with the rules child) stays.
    const before = reloads();
    await reload(`${base}${rulesChild('cheap')}[queue]\nbogus = 1\n`, /reload failed; keeping the running configuration/);
    expect(daemon.output()).toMatch(/queue\.bogus: unknown key/);
    expect(reloads()).toBe(before);
    expect((await swaks(mta.mxPort, 'still cheap')).stdout).toMatch(/<\*\* 550 5\.7\.1 /);

    // The child changed: the new pattern applies, the old one no longer.
    await reload(`${base}${rulesChild('viagra')}`, /configuration reloaded: the chain/);
    expect((await swaks(mta.mxPort, 'cheap is fine now')).stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    expect((await swaks(mta.mxPort, 'viagra')).stdout).toMatch(/<\*\* 550 5\.7\.1 /);

    const delivered = await mta.waitForMaildir('alice@localhost', 3);
    expect(delivered.map((m) => /^Subject: (.*)$/m.exec(m)?.[1]).sort()).toEqual(['cheap is fine now', 'cheap watches', 'cheap, but the session began before the reload']);
    expect(daemon.exitStatus()).toBeUndefined();
  }, 120_000);
});
