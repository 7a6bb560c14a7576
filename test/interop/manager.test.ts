// `mailgate manager` between a real Postfix and real milters. Needs `npm run
// build` first (the manager runs as node dist/cli/main.js) and the peers from
// scripts/install-test-peers.sh.
//
//   swaks → Postfix (smtpd_milters = the manager's unix socket ONLY)
//             → mailgate manager → opendkim (sign, example.com)
//                                → spamass-milter -r 15 → spamc → spamd
//                                → clamav-milter → clamd (EICAR .ndb)
//                                → pymilter (X-PyMilter: seen)
//                                → mailgate test-client / hanging milters
//         → smtp-sink
//
// One Postfix and one set of peers serve every test; each test (re)starts the
// manager with the configuration it needs (the restart itself is under test:
// the socket must come back with mode 0660 and group postfix every time, or
// Postfix's smtpd, user postfix, gets "Permission denied"). Tests run in file
// order and the manager's configuration carries over, so every test starts
// by restarting it with its own configuration.
//
// A peer that cannot start makes every test FAIL with the start error
// (setupGuard), never skip.
//
// Three tests are regression tests for manager bugs this file found (fixed;
// each marked "Regression" where it is written): an unreachable child's
// "temporary-failure" fallback lost when the live children negotiated away
// every envelope stage; its "discard" fallback answered at connect, which
// Postfix ignores; and a socket directory created under the process umask
// (0750 under umask 027), which Postfix cannot traverse.
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, createVerify } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempDir, type TempDir } from './harness/tmpdir.js';
import { Teardown } from './harness/teardown.js';
import { setupGuard } from './harness/setup-guard.js';
import { libmilterSpec, parseSpec, postfixSpec, unixEndpoint, waitListening } from './harness/endpoint.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { queueIdOf } from './harness/swaks.js';
import { describeResult, runCommand, startDaemon, waitFor, LIBMILTER_STOP_GRACE_MS, type CommandResult, type Daemon } from './harness/process.js';
import { startOpenDkim, DKIM_DOMAIN, type OpenDkim } from './harness/opendkim.js';
import { startPyMilter, PYMILTER_HEADER, type PyMilter } from './harness/pymilter.js';
import { startSpamd, GTUBE, type Spamd } from './harness/spamd.js';
import { startSpamassMilter, SPAMASS_REJECT_TEXT, type SpamassMilter } from './harness/spamass-milter.js';
import { startClamd, EICAR, EICAR_VIRUS_NAME, type Clamd } from './harness/clamd.js';
import { startClamavMilter, type ClamavMilter } from './harness/clamav-milter.js';
import { startTestClient, MAILGATE_CLI, REPO_ROOT, type TestClient } from './harness/mailgate.js';
import { startManager, managerToml, parseRecords, type Manager, type ManagerChild, type ManagerConfig, type SessionRecord } from './harness/manager.js';

const LIMITS = { timeout: 60_000 };
const TEST_CLIENT_HEADER = { name: 'X-Test-Client', value: 'applied' } as const;
const SENDER = `someone@${DKIM_DOMAIN}`;
const RCPT = 'rcpt@example.org';
/** A phrase our spamd scores 8: spam (>= 5) but below spamass-milter's -r 15, so it is marked, not refused. */
const SPAMMY = 'MAILGATE-SPAMMY-PHRASE';

/** A pymilter whose end of message sleeps 30 s (then adds X-Sleepy): a child that hangs. */
const SLEEPY_PY = `
import sys, time
import Milter

class Sleepy(Milter.Base):
    def eom(self):
        print("sleepy: eom", flush=True)
        time.sleep(30)
        self.addheader("X-Sleepy", "woke-up")
        return Milter.CONTINUE

Milter.factory = Sleepy
Milter.set_flags(Milter.ADDHDRS)
print("sleepy pymilter on %s" % sys.argv[1], flush=True)
Milter.runmilter("mailgate-sleepy", sys.argv[1], timeout=60, rmsock=True)
`;

async function startSleepyPyMilter(dir: string, spec: string): Promise<{ daemon: Daemon; stop(): Promise<unknown> }> {
  const ep = parseSpec(spec);
  const script = join(dir, 'sleepy_milter.py');
  await writeFile(script, SLEEPY_PY);
  const daemon = startDaemon('sleepy pymilter', '/usr/bin/python3', ['-u', script, libmilterSpec(ep)]);
  try {
    await waitListening(ep, 'sleepy pymilter', { daemon, timeoutMs: 15_000 });
  } catch (err) {
    await daemon.stop(LIBMILTER_STOP_GRACE_MS);
    throw err;
  }
  return { daemon, stop: () => daemon.stop(LIBMILTER_STOP_GRACE_MS) };
}

/**
 * A pymilter that records the header names it was sent, then at end of message inserts the fields
 * given as NAME:INDEX arguments (smfi_insheader) in that order and appends X-Seen-<tag> with the
 * names it saw: the order a later child of the chain was shown ends up in the delivered message.
 */
const INSERTING_PY = `
import sys
import Milter

TAG = sys.argv[2]
INSERTS = [(a.split(":")[0], int(a.split(":")[1])) for a in sys.argv[3:]]

class Inserting(Milter.Base):
    def connect(self, hostname, family, hostaddr):
        return Milter.CONTINUE
    def envfrom(self, f, *args):
        self.seen = []
        return Milter.CONTINUE
    def header(self, name, value):
        self.seen.append(name)
        return Milter.CONTINUE
    def eom(self):
        for name, index in INSERTS:
            self.addheader(name, "at-%d" % index, index)
        self.addheader("X-Seen-" + TAG, ",".join(self.seen))
        return Milter.CONTINUE

Milter.factory = Inserting
Milter.set_flags(Milter.ADDHDRS)
print("inserting pymilter %s on %s" % (TAG, sys.argv[1]), flush=True)
Milter.runmilter("mailgate-inserting-" + TAG, sys.argv[1], timeout=60, rmsock=True)
`;

async function startInsertingPyMilter(dir: string, spec: string, tag: string, inserts: readonly string[]): Promise<{ daemon: Daemon; stop(): Promise<unknown> }> {
  const ep = parseSpec(spec);
  const script = join(dir, 'inserting_milter.py');
  await writeFile(script, INSERTING_PY);
  const daemon = startDaemon(`inserting pymilter ${tag}`, '/usr/bin/python3', ['-u', script, libmilterSpec(ep), tag, ...inserts]);
  try {
    await waitListening(ep, `inserting pymilter ${tag}`, { daemon, timeoutMs: 15_000 });
  } catch (err) {
    await daemon.stop(LIBMILTER_STOP_GRACE_MS);
    throw err;
  }
  return { daemon, stop: () => daemon.stop(LIBMILTER_STOP_GRACE_MS) };
}

/** The names of the header fields Postfix delivered, in order, without smtp-sink's records and Received. */
function headerNames(dump: string): string[] {
  const SINK = new Set(['x-client-addr', 'x-client-proto', 'x-helo-args', 'x-mail-args', 'x-rcpt-args']);
  const fields: string[] = [];
  for (const line of dump.slice(0, dump.indexOf('\n\n')).split('\n')) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\n${line}`;
    else fields.push(line);
  }
  return fields
    .filter((f) => !SINK.has(f.slice(0, f.indexOf(':')).toLowerCase()) && !(f.startsWith('Received:') && f.includes('(smtp-sink)')))
    .map((f) => f.slice(0, f.indexOf(':')));
}

/** A "milter" that accepts connections and never says a word (not even to the negotiation). */
async function startSilentServer(path: string): Promise<{ connections(): number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((s) => {
    count++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    connections: () => count,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Sent {
  result: CommandResult;
  /** Milliseconds swaks took (connect to QUIT): where a slow child shows. */
  elapsedMs: number;
}

/** swaks → Postfix; extra swaks arguments (e.g. --xclient-name) last. */
async function swaks(pf: Postfix, subject: string, body: string, extra: readonly string[] = []): Promise<Sent> {
  const args = [
    '--server', `127.0.0.1:${pf.port}`,
    '--from', SENDER,
    '--to', RCPT,
    '--helo', 'client.example',
    '--timeout', '40s',
    '--header', `Subject: ${subject}`,
    '--body', body,
    ...extra,
  ]; // prettier-ignore
  const t0 = Date.now();
  const result = await runCommand('/usr/bin/swaks', args, { timeoutMs: 50_000 });
  return { result, elapsedMs: Date.now() - t0 };
}

/** The sink's dump of the message with this subject, once complete. */
async function atSink(pf: Postfix, subject: string, timeoutMs = 20_000): Promise<string> {
  const sink = pf.sink;
  if (!sink) throw new Error('Postfix has no sink');
  return waitFor(
    `message "${subject}" at the smtp-sink`,
    async () => (await sink.messages()).find((m) => m.includes(`Subject: ${subject}`) && m.endsWith('\n\n')),
    { timeoutMs, diagnostics: async () => `--- maillog ---\n${await pf.log()}` },
  );
}

const escapeRe = (s: string): string => s.replace(/[.*+?^$()|[\]{}\\]/g, '\\$&');
/** A header line at the start of a line, optionally with this value. */
const headerRe = (name: string, value?: string): RegExp =>
  new RegExp(`^${escapeRe(name)}:${value === undefined ? '' : `\\s*${escapeRe(value)}`}`, 'im');

/**
 * A bare SMTP client, for what swaks cannot do: several messages in one SMTP
 * session. Sends each step (a command, or a whole message ending "\r\n.") and
 * returns every reply, the greeting first.
 */
async function smtpTalk(port: number, steps: readonly string[], timeoutMs = 40_000): Promise<string[]> {
  const sock = connect({ host: '127.0.0.1', port });
  sock.setEncoding('latin1');
  let buf = '';
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  sock.on('data', (d: string) => {
    buf += d;
    wake?.();
  });
  sock.on('error', (e) => {
    failure = e;
    wake?.();
  });
  sock.on('close', () => {
    failure ??= new Error('connection closed');
    wake?.();
  });
  const deadline = Date.now() + timeoutMs;
  const reply = async (): Promise<string> => {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(buf);
      if (m) {
        buf = buf.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (failure) throw new Error(`SMTP: ${failure.message}; pending: ${JSON.stringify(buf)}`);
      if (Date.now() > deadline) throw new Error(`SMTP: no reply within ${timeoutMs} ms; pending: ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  try {
    const replies = [await reply()];
    for (const step of steps) {
      sock.write(`${step}\r\n`);
      replies.push(await reply());
    }
    return replies;
  } finally {
    sock.destroy();
  }
}

function rfc822(subject: string, body: string): string {
  return [
    `From: <${SENDER}>`,
    `To: <${RCPT}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@${DKIM_DOMAIN}>`,
    '',
    body,
    '.',
  ].join('\r\n');
}

/**
 * Verifies the message's DKIM-Signature (rsa-sha256, c=relaxed/simple as our
 * opendkim signs) against the public key opendkim-genkey wrote: proves that
 * what Postfix delivered after the manager's net header changes is what
 * opendkim signed. `dump` is the smtp-sink file: its X-Client-Addr ... records
 * come first (never in h=) and its trailing empty line is ignored by simple
 * body canonicalization. Returns undefined when valid, else why not.
 */
function dkimProblem(dump: string, publicKeyRecord: string): string | undefined {
  const split = dump.indexOf('\n\n');
  const headerText = dump.slice(0, split);
  const body = dump.slice(split + 2);
  // Unfolded headers, in order, each with its raw (folded) text.
  const fields: { name: string; raw: string }[] = [];
  for (const line of headerText.split('\n')) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line) && last) last.raw += `\r\n${line}`;
    else fields.push({ name: line.slice(0, line.indexOf(':')), raw: line });
  }
  const sig = fields.find((f) => f.name.toLowerCase() === 'dkim-signature');
  if (!sig) return 'no DKIM-Signature';
  const relaxed = (raw: string): string => {
    const colon = raw.indexOf(':');
    const value = raw
      .slice(colon + 1)
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim();
    return `${raw.slice(0, colon).trim().toLowerCase()}:${value}`;
  };
  const tags = new Map(
    sig.raw
      .slice(sig.raw.indexOf(':') + 1)
      .replace(/\s+/g, '')
      .split(';')
      .filter((t) => t.includes('='))
      .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] as const),
  );
  if (tags.get('a') !== 'rsa-sha256' || tags.get('c') !== 'relaxed/simple') return `unexpected a=/c=: ${sig.raw}`;
  // Body, simple: CRLF lines, trailing empty lines removed, one final CRLF.
  const canonBody = `${body.replace(/\n*$/, '').split('\n').join('\r\n')}\r\n`;
  const bh = createHash('sha256').update(canonBody, 'latin1').digest('base64');
  if (bh !== tags.get('bh')) return `body hash ${bh} differs from bh=${tags.get('bh') ?? '?'}`;
  // Headers, relaxed: each name in h= takes the last not yet used instance.
  const used = new Set<number>();
  const lines: string[] = [];
  for (const name of (tags.get('h') ?? '').split(':')) {
    for (let i = fields.length - 1; i >= 0; i--) {
      if (!used.has(i) && fields[i]?.name.toLowerCase() === name.toLowerCase()) {
        used.add(i);
        lines.push(`${relaxed(fields[i]?.raw ?? '')}\r\n`);
        break;
      }
    }
  }
  lines.push(relaxed(sig.raw.replace(/\bb=[^;]*/, 'b=')));
  const p = /p=([A-Za-z0-9+/=]+)/.exec(publicKeyRecord.match(/"[^"]*"/g)?.map((q) => q.slice(1, -1)).join('') ?? '')?.[1];
  if (!p) return `no p= in ${publicKeyRecord}`;
  const key = createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' });
  const ok = createVerify('RSA-SHA256').update(lines.join(''), 'latin1').verify(key, Buffer.from(tags.get('b') ?? '', 'base64'));
  return ok ? undefined : `signature does not verify over:\n${lines.join('')}`;
}

describe('Postfix → mailgate manager → opendkim + spamass-milter + clamav-milter + pymilter (+ more)', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let tmp: TempDir;
  let socketPath = '';
  let spamd: Spamd;
  let clamd: Clamd;
  let dkim: OpenDkim;
  let spamass: SpamassMilter;
  let clamav: ClamavMilter;
  let py: PyMilter;
  let sleepy: { daemon: Daemon };
  let tc: TestClient;
  let pf: Postfix;
  let mgr: Manager;
  const specs = { dkim: '', spamass: '', clamav: '', py: '', pyeom: '', tc: '', sleepy: '', silent: '', victim: '', absent: '' };
  let postfixGid = -1;

  /** Standard children, all on their default fallback (accept) unless overridden. */
  const child = (name: keyof typeof specs, extra: Partial<ManagerChild> = {}): ManagerChild => ({ name, connectionSpec: specs[name], ...extra });
  const config = (children: readonly ManagerChild[]): ManagerConfig => ({ socketPath, unixSocketGroup: 'postfix', children });
  const contentFilters = (): ManagerChild[] => [child('dkim'), child('spamass'), child('clamav')];

  beforeAll(() =>
    setup.run(async () => {
      const t0 = Date.now();
      tmp = await makeTempDir('manager');
      td.defer(() => tmp.remove());
      postfixGid = Number(execFileSync('getent', ['group', 'postfix'], { encoding: 'utf8' }).split(':')[2]);
      for (const k of Object.keys(specs) as (keyof typeof specs)[]) specs[k] = libmilterSpec(unixEndpoint(tmp.path, `${k}.sock`));
      socketPath = join(tmp.path, 'manager', 'manager.sock'); // the manager creates its directory

      // Independent peers at once; every one that started is registered even if another fails.
      const started = await Promise.allSettled([
        (async () => (spamd = td.add(await startSpamd({ localCf: [`body MAILGATE_SPAMMY /${SPAMMY}/`, 'score MAILGATE_SPAMMY 8.0'] }))))(),
        (async () => (clamd = td.add(await startClamd())))(),
        (async () => (dkim = td.add(await startOpenDkim({ spec: specs.dkim }))))(),
        (async () => (py = td.add(await startPyMilter({ spec: specs.py }))))(),
        (async () => td.add(await startPyMilter({ spec: specs.pyeom, steps: 'eom-only' })))(),
        (async () => (sleepy = td.add(await startSleepyPyMilter(tmp.path, specs.sleepy))))(),
        (async () =>
          (tc = td.add(
            await startTestClient({ spec: specs.tc, args: ['--quiet', '--add-header', `${TEST_CLIENT_HEADER.name}: ${TEST_CLIENT_HEADER.value}`] }),
          )))(),
      ]);
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      const filters = await Promise.allSettled([
        (async () => (spamass = td.add(await startSpamassMilter({ spamd, spec: specs.spamass, rejectScore: 15 }))))(),
        (async () => (clamav = td.add(await startClamavMilter({ clamd, spec: specs.clamav, onInfected: 'Reject' }))))(),
      ]);
      for (const s of filters) if (s.status === 'rejected') throw s.reason;

      mgr = td.add(await startManager({ dir: tmp.path, config: config([...contentFilters(), child('py')]) }));
      pf = td.add(
        await startPostfix({
          milterSpec: postfixSpec({ kind: 'unix', path: socketPath }),
          // XCLIENT (already authorized for 127.0.0.0/8) moves the client to 192.0.2.x: let it relay.
          extra: { mynetworks: '127.0.0.0/8 192.0.2.0/24' },
        }),
      );
      console.log(`manager.test: peers, manager and Postfix up in ${Date.now() - t0} ms`);
    }),
  );
  afterAll(() => td.run());

  const dump = async (): Promise<void> => {
    if (!setup.ok) return;
    console.error(
      [
        `--- manager (${mgr.configFile}) ---\n${mgr.output()}`,
        `--- maillog ---\n${await pf.log()}`,
        `--- opendkim ---\n${dkim.daemon.output()}`,
        `--- spamass-milter ---\n${spamass.daemon.output()}`,
        `--- spamd ---\n${spamd.daemon.output().slice(-4000)}`,
        `--- clamav-milter ---\n${await clamav.log()}`,
        `--- pymilter ---\n${py.daemon.output()}`,
        `--- test-client ---\n${tc.daemon.output()}`,
      ].join('\n'),
    );
  };

  /** The session record the manager logged for the session that ended after `afterIndex` records. */
  const nextSession = async (afterIndex: number, client = '127.0.0.1'): Promise<SessionRecord> =>
    (await mgr.waitForRecord(`a session record for client ${client}`, (r) => r.event === 'session' && r['client'] === client, {
      afterIndex,
    })) as SessionRecord;

  /** The failures of child `name` logged after `afterIndex` records: where and why its fallback applied. */
  const failedAt = (name: string, afterIndex: number) =>
    mgr
      .records()
      .slice(afterIndex)
      .filter((r) => r['child'] === name && typeof r.msg === 'string' && r.msg.startsWith(`child ${name} failed at `))
      .map((r) => ({ stage: r['stage'], err: r['err'] }));

  /** Sends, expects it queued, returns the sink's copy and the timing. */
  const deliver = async (subject: string, body = 'hello from the manager interop tests', extra: readonly string[] = [], client = '127.0.0.1') => {
    const before = mgr.records().length;
    const sent = await swaks(pf, subject, body, extra);
    const queueId = queueIdOf(sent.result.stdout);
    if (sent.result.exitCode !== 0 || queueId === undefined) {
      throw new Error(`Postfix did not accept "${subject}": swaks ${describeResult(sent.result)}\n--- maillog ---\n${await pf.log()}`);
    }
    const message = await atSink(pf, subject);
    const session = await nextSession(before, client);
    return { message, elapsedMs: sent.elapsedMs, session, queueId };
  };

  const expectContentHeaders = (message: string): void => {
    expect(message, message).toMatch(new RegExp(`^DKIM-Signature:[\\s\\S]{0,300}\\bd=${DKIM_DOMAIN.replace('.', '\\.')};`, 'm'));
    expect(message, message).toMatch(/^X-Spam-(Status|Checker-Version):/m);
    expect(message, message).toMatch(/^X-Virus-(Status: Clean|Scanned:)/m);
  };

  describe('1. every real filter behind the one socket at once', () => {
    test('ordinary mail gets DKIM-Signature, X-Spam-*, X-Virus-* and X-PyMilter', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const { message, session, queueId } = await deliver('manager-ham');
      expectContentHeaders(message);
      // The statistics line matches Postfix's log: its queue id (macro i), from=<...>, to=<...>.
      expect(session, JSON.stringify(session)).toMatchObject({
        messages: [{ queueId, from: `<${SENDER}>`, to: [`<${RCPT}>`], status: 'continue' }],
      });
      expect(message).toMatch(/^X-Spam-Status: No, /m);
      expect(message).toMatch(/^X-Virus-Status: Clean$/m);
      expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      // What opendkim signed is what was delivered, after every other child's changes.
      expect(dkimProblem(message, dkim.publicKeyRecord), message).toBeUndefined();
      expect(session.children).toMatchObject({ dkim: 'accept', spamass: expect.any(String), clamav: 'accept', py: 'continue' });
      // Postfix names the manager's socket and nothing else.
      const milters = await runCommand('/usr/sbin/postconf', ['-c', pf.configDir, '-h', 'smtpd_milters']);
      expect(milters.stdout.trim(), describeResult(milters)).toBe(`unix:${socketPath}`);
      expect(await pf.log()).not.toMatch(/Permission denied|milter.*(error|fail)/i);
    });

    test('GTUBE is refused 550 5.7.1 by SpamAssassin, through the manager', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const before = mgr.records().length;
      const sent = await swaks(pf, 'manager-gtube', `This is the GTUBE:\n${GTUBE}\n`);
      expect(sent.result.exitCode, describeResult(sent.result)).not.toBe(0);
      expect(sent.result.stdout, describeResult(sent.result)).toMatch(new RegExp(`^<\\*\\*\\s+550 5\\.7\\.1 ${SPAMASS_REJECT_TEXT}`, 'm'));
      await pf.waitForLog(/milter-reject: END-OF-MESSAGE .*5\.7\.1 Blocked by SpamAssassin/);
      const session = await nextSession(before);
      expect(session.children['spamass']).toBe('reject');
      expect((await pf.sink?.messages())?.some((m) => m.includes('Subject: manager-gtube'))).toBe(false);
    });

    test('EICAR is refused 5xx (clamav-milter), through the manager', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const before = mgr.records().length;
      const sent = await swaks(pf, 'manager-eicar', `Test attachment follows inline:\n${EICAR}\n`);
      expect(sent.result.exitCode, describeResult(sent.result)).not.toBe(0);
      const virus = EICAR_VIRUS_NAME.replace(/\./g, '\\.');
      expect(sent.result.stdout, describeResult(sent.result)).toMatch(new RegExp(`^<\\*\\*\\s+5\\d\\d 5\\.7\\.1 Virus found: ${virus}`, 'm'));
      await pf.waitForLog(/milter-reject: END-OF-MESSAGE .*Virus found/);
      const session = await nextSession(before);
      expect(session.children['clamav']).toBe('reject');
      expect((await pf.sink?.messages())?.some((m) => m.includes('Subject: manager-eicar'))).toBe(false);
    });
    test('GTUBE, ham, EICAR, ham in ONE SMTP session: each message judged on its own', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const envelope = [`MAIL FROM:<${SENDER}>`, `RCPT TO:<${RCPT}>`, 'DATA'];
      const replies = await smtpTalk(pf.port, [
        'EHLO client.example',
        ...envelope,
        rfc822('manager-multi-gtube', `spam follows\r\n${GTUBE}`),
        ...envelope,
        rfc822('manager-multi-ham-1', 'first ordinary message'),
        ...envelope,
        rfc822('manager-multi-eicar', `virus follows\r\n${EICAR}`),
        ...envelope,
        rfc822('manager-multi-ham-2', 'second ordinary message'),
        'QUIT',
      ]);
      const transcript = replies.join('\n');
      // Greeting, EHLO, then MAIL/RCPT/DATA/dot four times: the dots' replies are at 5, 9, 13, 17.
      expect(replies[5], transcript).toMatch(new RegExp(`^550 5\\.7\\.1 ${SPAMASS_REJECT_TEXT}`));
      expect(replies[9], transcript).toMatch(/^250 .*queued as/);
      expect(replies[13], transcript).toMatch(/^5\d\d 5\.7\.1 Virus found/);
      expect(replies[17], transcript).toMatch(/^250 .*queued as/);
      for (const subject of ['manager-multi-ham-1', 'manager-multi-ham-2']) {
        const message = await atSink(pf, subject);
        expectContentHeaders(message);
        expect(message).toMatch(/^X-Spam-Status: No, /m);
        expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
        expect(dkimProblem(message, dkim.publicKeyRecord), message).toBeUndefined();
      }
      const sunk = (await pf.sink?.messages()) ?? [];
      expect(sunk.some((m) => /Subject: manager-multi-(gtube|eicar)/.test(m))).toBe(false);
    });

    test('a 300 KiB message (several 64 KiB body chunks): delivered intact, the DKIM body hash verifies', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const lines = Array.from({ length: 4_000 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'abcdefghij'.repeat(6)}`);
      const replies = await smtpTalk(pf.port, [
        'EHLO client.example',
        `MAIL FROM:<${SENDER}>`,
        `RCPT TO:<${RCPT}>`,
        'DATA',
        rfc822('manager-big', lines.join('\r\n')),
        'QUIT',
      ]);
      expect(replies[5], replies.join('\n')).toMatch(/^250 .*queued as/);
      const message = await atSink(pf, 'manager-big');
      expectContentHeaders(message);
      expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(message).toContain(`${lines[0]}\n`);
      expect(message).toContain(`${lines[3_999]}\n`);
      expect(dkimProblem(message, dkim.publicKeyRecord), message.slice(0, 3000)).toBeUndefined();
    });

    test('spamass-milter rewrites a spammy message (8 points, below -r 15): opendkim after it signs the rewritten message', async ({
      onTestFailed,
    }) => {
      onTestFailed(dump);
      setup.check();
      // Each child sees the message as changed by the children before it.
      await mgr.restart(config([child('spamass'), child('clamav'), child('dkim'), child('py')]));
      const { message, session } = await deliver('manager-spammy', `Buy now\n${SPAMMY}\n`);
      expect(session.children).toMatchObject({ clamav: 'accept', dkim: 'accept' });
      expect(message).toMatch(/^X-Spam-Flag: YES$/m);
      expect(message).toMatch(/^X-Spam-Status: Yes, score=\d+\.\d+ required=5\.0 tests=.*MAILGATE_SPAMMY/m);
      // report_safe: the body became SpamAssassin's report with the original attached.
      expect(message).toMatch(/^Content-Type: multipart\/mixed; boundary=/m);
      expect(message).toContain('Spam detection software');
      expect(message).toMatch(/^X-Virus-Status: Clean$/m);
      expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(dkimProblem(message, dkim.publicKeyRecord), message).toBeUndefined();
    });

    test('evaluation_mode on spamass-milter: GTUBE is delivered, its refusal and changes only logged', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('dkim'), child('spamass', { evaluationMode: true }), child('clamav'), child('py')]));
      const mark = mgr.records().length;
      const { message, session } = await deliver('manager-eval-gtube', `This is the GTUBE:\n${GTUBE}\n`);
      expect(session.children['spamass']).toBe('reject');
      expect(message).not.toMatch(/^X-Spam-/m);
      expect(message).toMatch(/^X-Virus-Status: Clean$/m);
      expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(dkimProblem(message, dkim.publicKeyRecord), message).toBeUndefined();
      expect(mgr.records().slice(mark).some((r) => r.msg === 'evaluation mode: refusal counted as accept' && r['child'] === 'spamass')).toBe(true);
    });
  });

  describe('2. a child that dies or hangs gives its fallback; the others keep working', () => {
    test('pymilter killed between two messages: the next one is delivered without X-PyMilter, after one refused connection and no retry', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      // A pymilter of its own, so that killing it leaves the shared one alone.
      const victim = td.add(await startPyMilter({ spec: specs.victim }));
      await mgr.restart(config([...contentFilters(), child('victim', { fallbackStatus: 'accept' })]));

      const first = await deliver('manager-before-kill');
      expectContentHeaders(first.message);
      expect(first.message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));

      process.kill(-victim.daemon.pid, 'SIGKILL'); // its socket file stays: connect() is refused
      await victim.daemon.exited;

      // milter-manager would spend a fixed 5 s retrying the dead child in every session: here one refused
      // connection, no retry, and later sessions do not even try it (the cause, not the time, is asserted).
      let mark = mgr.records().length;
      const second = await deliver('manager-after-kill');
      expectContentHeaders(second.message);
      expect(second.message).not.toMatch(headerRe(PYMILTER_HEADER.name));
      expect(second.session.children['victim']).toBe('fallback');
      expect(failedAt('victim', mark)).toEqual([{ stage: 'negotiate', err: expect.stringMatching(/cannot connect: .*ECONNREFUSED/) }]);
      mark = mgr.records().length;
      const third = await deliver('manager-after-kill-2');
      expectContentHeaders(third.message);
      expect(third.message).not.toMatch(headerRe(PYMILTER_HEADER.name));
      expect(third.session.children['victim']).toBe('fallback');
      expect(failedAt('victim', mark)).toEqual([]);
      expect(mgr.records().some((r) => typeof r.msg === 'string' && r.msg.includes('child victim is down'))).toBe(true);
      console.log(`manager.test: kill → next message ${second.elapsedMs} ms, then ${third.elapsedMs} ms (swaks, connect to QUIT)`);

      // Back on the same socket: the background probe (every 2 s) finds it and it applies again.
      mark = mgr.records().length;
      td.add(await startPyMilter({ spec: specs.victim }));
      await mgr.waitForRecord('"child victim answers again"', (r) => r.msg === 'child victim answers again', { afterIndex: mark, timeoutMs: 8_000 });
      const back = await deliver('manager-victim-back');
      expect(back.message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(back.session.children['victim']).not.toBe('fallback');
    });

    describe('a child whose end of message sleeps 30 s (reading_timeout = end_of_message_timeout = 2)', () => {
      const sleepy = (fallbackStatus: 'accept' | 'temporary-failure'): ManagerChild =>
        child('sleepy', { fallbackStatus, readingTimeout: 2, endOfMessageTimeout: 2 });

      test('fallback "accept": delivered after ~2 s with the other children\'s headers', async ({ onTestFailed }) => {
        onTestFailed(dump);
        setup.check();
        // First in the chain: the children after it still get the message.
        await mgr.restart(config([sleepy('accept'), ...contentFilters(), child('py')]));
        const before = mgr.records().length;
        const { message, elapsedMs, session } = await deliver('manager-sleepy-accept');
        expectContentHeaders(message);
        expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
        expect(message).not.toMatch(/^X-Sleepy:/m);
        expect(session.children['sleepy']).toBe('fallback');
        expect(failedAt('sleepy', before)).toEqual([{ stage: 'endOfMessage', err: expect.stringMatching(/timeout at .*no reply within 2 s/) }]);
        expect(elapsedMs).toBeLessThan(20_000); // a hang guard: ten times the timeout
        console.log(`manager.test: sleepy child (fallback accept) → delivered, swaks took ${elapsedMs} ms`);
      });

      test('fallback "temporary-failure": Postfix answers 4xx', async ({ onTestFailed }) => {
        onTestFailed(dump);
        setup.check();
        await mgr.restart(config([...contentFilters(), sleepy('temporary-failure')]));
        const before = mgr.records().length;
        const sent = await swaks(pf, 'manager-sleepy-tempfail', 'hello');
        expect(sent.result.exitCode, describeResult(sent.result)).not.toBe(0);
        expect(sent.result.stdout, describeResult(sent.result)).toMatch(/^<\*\*\s+4\d\d[ -]/m);
        expect(sent.elapsedMs).toBeLessThan(20_000); // a hang guard: ten times the timeout
        const session = await nextSession(before);
        expect(session.children['sleepy']).toBe('fallback');
        expect(failedAt('sleepy', before)).toEqual([{ stage: 'endOfMessage', err: expect.stringMatching(/timeout at .*no reply within 2 s/) }]);
        expect(session.status).toBe('tempfail');
        expect((await pf.sink?.messages())?.some((m) => m.includes('Subject: manager-sleepy-tempfail'))).toBe(false);
      });
    });

    test('a child that never answers the negotiation (reading_timeout = 2, fallback accept): delivered after ~2 s', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const silent = await startSilentServer(specs.silent.replace(/^unix:/, ''));
      td.add(silent);
      await mgr.restart(config([child('silent', { fallbackStatus: 'accept', readingTimeout: 2, endOfMessageTimeout: 2 }), ...contentFilters()]));
      const before = mgr.records().length;
      const { message, elapsedMs, session } = await deliver('manager-silent');
      expectContentHeaders(message);
      expect(session.children['silent']).toBe('fallback');
      expect(failedAt('silent', before)).toEqual([{ stage: 'negotiate', err: expect.stringMatching(/timeout at .*no reply within 2 s/) }]);
      expect(silent.connections()).toBeGreaterThan(0);
      expect(elapsedMs).toBeLessThan(20_000); // a hang guard: ten times the timeout
      console.log(`manager.test: silent child (fallback accept) → delivered, swaks took ${elapsedMs} ms`);
    });
  });

  describe('2b. a child that cannot be reached at all (no socket): its fallback_status applies', () => {
    const absentSession = async (before: number): Promise<SessionRecord> => {
      // Any client: with connect negotiated away the record has none.
      const session = (await mgr.waitForRecord('a session record', (r) => r.event === 'session', { afterIndex: before })) as SessionRecord;
      expect(session.children['absent']).toBe('fallback');
      return session;
    };

    test('"temporary-failure", next to a child that asks for every stage: Postfix answers 4xx', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('py'), child('absent', { fallbackStatus: 'temporary-failure' })]));
      const before = mgr.records().length;
      const sent = await swaks(pf, 'manager-absent-tempfail', 'hello');
      expect(sent.result.stdout, describeResult(sent.result)).toMatch(/^<\*\*\s+4\d\d[ -]/m);
      expect(queueIdOf(sent.result.stdout), describeResult(sent.result)).toBeUndefined();
      expect((await absentSession(before)).status).toBe('tempfail');
    });

    // Regression (fixed): the unreachable child's fallback is "owed at the first stage", but
    // the chain negotiated away every envelope stage (its only live child,
    // pymilter with its defaults, asks for end of message only), so Postfix
    // never sends one and the owed tempfail is dropped: the message is queued.
    test('"temporary-failure", next to a child that negotiated away every envelope stage: Postfix answers 4xx', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('pyeom'), child('absent', { fallbackStatus: 'temporary-failure' })]));
      const before = mgr.records().length;
      const sent = await swaks(pf, 'manager-absent-tempfail-eom-only', 'hello');
      expect(sent.result.stdout, describeResult(sent.result)).toMatch(/^<\*\*\s+4\d\d[ -]/m);
      expect(queueIdOf(sent.result.stdout), describeResult(sent.result)).toBeUndefined();
      expect((await absentSession(before)).status).toBe('tempfail');
    });

    test('"reject": Postfix answers 5xx', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('py'), child('absent', { fallbackStatus: 'reject' })]));
      const before = mgr.records().length;
      const sent = await swaks(pf, 'manager-absent-reject', 'hello');
      expect(sent.result.exitCode, describeResult(sent.result)).not.toBe(0);
      expect(sent.result.stdout, describeResult(sent.result)).toMatch(/^<\*\*\s+5\d\d[ -]/m);
      expect((await absentSession(before)).status).toBe('reject');
    });

    // Regression (fixed): the owed discard is answered at connect, where the milter protocol
    // has no discard: Postfix logs "DISCARD action is not allowed for connect
    // or helo", ignores it, and DELIVERS the message.
    test('"discard": the message is accepted (250) but discarded, never delivered', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('py'), child('absent', { fallbackStatus: 'discard' })]));
      const before = mgr.records().length;
      const sent = await swaks(pf, 'manager-absent-discard', 'hello');
      expect(sent.result.exitCode, describeResult(sent.result)).toBe(0);
      await absentSession(before);
      const log = await pf.log();
      expect(log).not.toMatch(/DISCARD action is not allowed/);
      await pf.waitForLog(/milter-discard: /, 5_000);
      expect((await pf.sink?.messages())?.some((m) => m.includes('Subject: manager-absent-discard'))).toBe(false);
    });
  });

  describe('3. applicable_conditions = ["S25R"] with XCLIENT', () => {
    test('a dynamic-looking client name gets the child; a static one does not', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('dkim'), child('tc', { applicableConditions: ['S25R'] })]));

      const dyn = await deliver('manager-s25r-dynamic', 'hello', ['--xclient-name', 'dhcp123.example.com', '--xclient-addr', '192.0.2.10'], '192.0.2.10');
      expect(dyn.message).toMatch(headerRe(TEST_CLIENT_HEADER.name, TEST_CLIENT_HEADER.value));
      expect(dyn.session.client).toBe('192.0.2.10');
      expect(dyn.session.children['tc']).not.toBe('stopped');

      const stat = await deliver('manager-s25r-static', 'hello', ['--xclient-name', 'mail.example.com', '--xclient-addr', '192.0.2.11'], '192.0.2.11');
      expect(stat.message).not.toMatch(headerRe(TEST_CLIENT_HEADER.name));
      expect(stat.session.client).toBe('192.0.2.11');
      expect(stat.session.children['tc']).toBe('stopped');
    });
  });

  describe('4. restarts with unix_socket_group = "postfix"', () => {
    test('after each of three restarts: socket 0660 group postfix, and Postfix delivers through it', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.writeConfig(config([child('py')]));
      for (let i = 1; i <= 3; i++) {
        await mgr.restart();
        const st = statSync(mgr.socketPath);
        expect(st.isSocket()).toBe(true);
        expect((st.mode & 0o777).toString(8)).toBe('660');
        expect(st.gid).toBe(postfixGid);
        const { message } = await deliver(`manager-restart-${i}`);
        expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
        expect(await pf.log()).not.toMatch(/Permission denied/i);
      }
    });
    test('after a crash (SIGKILL): the stale socket is replaced, 0660 group postfix, Postfix delivers', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      process.kill(mgr.daemon().pid, 'SIGKILL');
      await mgr.daemon().exited;
      expect(statSync(mgr.socketPath).isSocket()).toBe(true); // left behind
      await mgr.start();
      const st = statSync(mgr.socketPath);
      expect((st.mode & 0o777).toString(8)).toBe('660');
      expect(st.gid).toBe(postfixGid);
      const { message } = await deliver('manager-after-crash');
      expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(await pf.log()).not.toMatch(/Permission denied/i);
    });

    // Regression (fixed): prepareSocketPath() creates the directory with mkdir(mode 0755),
    // which the umask filters (0750 root:root here); the socket gets its
    // explicit 0660 and group postfix, but Postfix's smtpd (user postfix)
    // cannot traverse the directory: "connect to Milter service ...:
    // Permission denied", every session tempfailed.
    test('started under umask 027 with its socket directory to create: Postfix can still connect', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      // As a hardened service manager runs it (systemd UMask=0027): the manager
      // creates the missing socket directory itself.
      const socketDir = dirname(mgr.socketPath);
      await mgr.stop();
      await rm(socketDir, { recursive: true, force: true });
      try {
        await mgr.start({ umask: '027' });
        const st = statSync(mgr.socketPath);
        expect((st.mode & 0o777).toString(8)).toBe('660');
        expect(st.gid).toBe(postfixGid);
        const sent = await swaks(pf, 'manager-umask-027', 'hello');
        const dirMode = (statSync(socketDir).mode & 0o777).toString(8);
        expect(sent.result.exitCode, `socket directory mode ${dirMode}; swaks ${describeResult(sent.result)}\n${await pf.log()}`).toBe(0);
        expect(await pf.log()).not.toMatch(/Permission denied/i);
      } finally {
        // Whatever happened: back to a socket directory made under the usual umask.
        await mgr.stop();
        await rm(socketDir, { recursive: true, force: true });
        await mgr.start();
      }
    });
  });

  describe('4b. header inserts land where Postfix puts them, for later children and in the delivered message', () => {
    // Postfix hides its own Received from milters but counts it for an insert (0 above it, 1 just
    // below it) and skips it for a change. Child A inserts at 1; child B, shown A's result, inserts
    // at 0 and 2. Each records the header names it was shown.
    test('inserts at 0, 1 and 2 by two children', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const specA = libmilterSpec(unixEndpoint(tmp.path, 'insert-a.sock'));
      const specB = libmilterSpec(unixEndpoint(tmp.path, 'insert-b.sock'));
      const a = await startInsertingPyMilter(tmp.path, specA, 'A', ['X-Ins1:1']);
      try {
        const b = await startInsertingPyMilter(tmp.path, specB, 'B', ['X-Ins0:0', 'X-Ins2:2']);
        try {
          await mgr.restart(config([{ name: 'insA', connectionSpec: specA }, { name: 'insB', connectionSpec: specB }]));
          const { message, session } = await deliver('manager-insert-order');
          expect(session.children).toMatchObject({ insA: 'continue', insB: 'continue' });
          const names = headerNames(message);
          const seenA = /^X-Seen-A: ?(.*)$/m.exec(message)?.[1]?.split(',') ?? [];
          const seenB = /^X-Seen-B: ?(.*)$/m.exec(message)?.[1]?.split(',') ?? [];
          expect(seenA.length, message).toBeGreaterThan(2);
          expect(seenA, message).not.toContain('Received');
          // B was shown what Postfix would have written after A: A's insert at 1 above the first field A saw.
          expect(seenB, message).toEqual(['X-Ins1', ...seenA, 'X-Seen-A']);
          // Postfix, given the chain's net changes, wrote what B left: 0 above its own Received, 2 below it.
          expect(names, message).toEqual(['X-Ins0', 'Received', 'X-Ins2', 'X-Ins1', ...seenA, 'X-Seen-A', 'X-Seen-B']);
        } finally {
          await b.stop();
        }
      } finally {
        await a.stop();
      }
    });
  });

  describe('6. SIGHUP reload and SIGTERM', () => {
    test('SIGHUP: a child added to the file applies to the next message', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('py')]));
      const before = await deliver('manager-before-hup');
      expect(before.message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(before.message).not.toMatch(headerRe(TEST_CLIENT_HEADER.name));

      await mgr.writeConfig(config([child('py'), child('tc')]));
      const pid = mgr.daemon().pid;
      await mgr.reload();
      const after = await deliver('manager-after-hup');
      expect(mgr.daemon().pid).toBe(pid); // same process: reloaded, not restarted
      expect(after.message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(after.message).toMatch(headerRe(TEST_CLIENT_HEADER.name, TEST_CLIENT_HEADER.value));
      expect(Object.keys(after.session.children).sort()).toEqual(['py', 'tc']);
    });

    test('SIGHUP with a broken file: "reload failed", the running configuration keeps serving', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      const pid = mgr.daemon().pid;
      await mgr.writeConfig(`${managerToml(config([child('py')]))}reading_timeout = "2"\n`);
      await expect(mgr.reload()).rejects.toThrow(/reload failed/);
      expect(mgr.daemon().exitStatus()).toBeUndefined();
      const still = await deliver('manager-after-bad-hup');
      expect(mgr.daemon().pid).toBe(pid);
      // Still the two children of the last good configuration.
      expect(still.message).toMatch(headerRe(TEST_CLIENT_HEADER.name, TEST_CLIENT_HEADER.value));
      expect(Object.keys(still.session.children).sort()).toEqual(['py', 'tc']);
    });

    // It hung the manager at 100 % CPU (Node's recursive mkdir on procfs, opening the new chain's database).
    test('SIGHUP with a greylist database under /proc: "reload failed" at its file:line, the running configuration keeps serving', async ({
      onTestFailed,
    }) => {
      onTestFailed(dump);
      setup.check();
      await mgr.restart(config([child('py'), child('tc')]));
      const pid = mgr.daemon().pid;
      const text = `${managerToml(config([child('py')]))}${GREYLIST_CHILD}sqlite_file = "/proc/mailgate-hostile/greylist.sqlite"\n`;
      await mgr.writeConfig(text);
      const line = text.split('\n').findIndex((l) => l.startsWith('sqlite_file')) + 1;
      const failed = await mgr.reload().then(
        () => 'reloaded',
        (err: Error) => err.message,
      );
      expect(failed).toMatch(/^reload failed/);
      const why = `${mgr.configFile}:${line}: milter "grey".sqlite_file: greylist database directory /proc/mailgate-hostile is on proc (/proc), a kernel filesystem that cannot hold a database`;
      expect(failed).toContain(JSON.stringify(why));
      const still = await deliver('manager-after-proc-hup');
      expect(mgr.daemon().pid).toBe(pid);
      expect(Object.keys(still.session.children).sort()).toEqual(['py', 'tc']);
    });

    test('SIGTERM during a session: the session finishes (delivered), then the manager exits 0', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      // The sleepy child (2 s, fallback accept) keeps the session in flight long enough.
      await mgr.restart(config([child('sleepy', { fallbackStatus: 'accept', readingTimeout: 2, endOfMessageTimeout: 2 }), child('py')]));
      const eoms = (): number => sleepy.daemon.output().split('sleepy: eom').length;
      const before = eoms();
      const sending = swaks(pf, 'manager-drain', 'hello');
      await waitFor('the sleepy child in end of message', () => (eoms() > before ? true : undefined), { timeoutMs: 15_000 });
      const exit = mgr.daemon().exited;
      process.kill(mgr.daemon().pid, 'SIGTERM');
      const sent = await sending;
      expect(sent.result.exitCode, describeResult(sent.result)).toBe(0);
      expect(await exit).toEqual({ code: 0, signal: null });
      const message = await atSink(pf, 'manager-drain');
      expect(message).toMatch(headerRe(PYMILTER_HEADER.name, PYMILTER_HEADER.value));
      expect(existsSync(mgr.socketPath)).toBe(false);
      await mgr.restart(config([child('py'), child('tc')]));
    });

    test('SIGTERM: exits 0 and removes its socket', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup.check();
      expect(existsSync(mgr.socketPath)).toBe(true);
      const st = await mgr.stop();
      expect(st).toEqual({ code: 0, signal: null }); // not the harness's SIGKILL after its grace period
      expect(existsSync(mgr.socketPath)).toBe(false);
    });
  });
});

/** A built-in greylist child in SQLite (the default store): its database is created in data_dir at start. */
const GREYLIST_CHILD = `
[[milter]]
name = "grey"
builtin = "greylist"
conf_text = "greylist 10m"
`;

describe('5. a bad configuration: exit 2, one line naming file:line and the key, no socket', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let tmp: TempDir;
  beforeAll(() =>
    setup.run(async () => {
      tmp = await makeTempDir('manager-bad');
      td.defer(() => tmp.remove());
      await writeFile(join(tmp.path, 'regular-file'), 'not a directory\n');
      await symlink(join(tmp.path, 'nowhere'), join(tmp.path, 'dangling'));
    }),
  );
  afterAll(() => td.run());

  const good = (sock: string): ManagerConfig => ({
    socketPath: sock,
    unixSocketGroup: 'postfix',
    children: [{ name: 'one', connectionSpec: `unix:${join(tmp.path, 'one.sock')}` }],
  });

  // Each case: the file text (from a good one, edited), the line and key the error must name.
  const cases: { name: string; text: (sock: string) => string; line: number; key: RegExp; socket?: (sock: string) => string }[] = [
    {
      name: 'a typo key (conection_spec)',
      text: (sock) => managerToml(good(sock)).replace('connection_spec', 'conection_spec'),
      line: 2,
      key: /manager\.conection_spec\b.*unknown key/,
    },
    {
      name: 'a wrong type (reading_timeout = "2")',
      text: (sock) => `${managerToml(good(sock))}reading_timeout = "2"\n`,
      line: 8,
      key: /milter "one"\.reading_timeout\b.*expected a number/,
    },
    {
      name: 'an unknown condition (applicable_conditions = ["S25X"])',
      text: (sock) => `${managerToml(good(sock))}applicable_conditions = ["S25X"]\n`,
      line: 8,
      key: /milter "one"\.applicable_conditions\[0\].*unknown condition "S25X"/,
    },
    {
      name: 'a socket under a regular file',
      text: (sock) => managerToml(good(sock)),
      socket: () => join(tmp.path, 'regular-file', 'sub', 'manager.sock'),
      line: 2,
      key: /manager\.connection_spec\b.*not a directory/,
    },
    // Hostile-test defects (issue 9 §7): each failed after startup with no file:line, hung, or started
    // with a 1 ms timer.
    {
      name: 'a unix_socket_group that does not exist',
      text: (sock) => managerToml({ ...good(sock), unixSocketGroup: 'no-such-group-mailgate' }),
      line: 3,
      key: /manager\.unix_socket_group\b.*"no-such-group-mailgate" does not exist/,
    },
    {
      name: 'a socket directory under a dangling symlink',
      text: (sock) => managerToml(good(sock)),
      socket: () => join(tmp.path, 'dangling', 'sub', 'manager.sock'),
      line: 2,
      key: /manager\.connection_spec\b.*dangling is a symbolic link to .*, which does not exist/,
    },
    {
      name: 'a socket under /proc',
      text: (sock) => managerToml(good(sock)),
      socket: () => '/proc/mailgate-hostile/manager.sock',
      line: 2,
      key: /manager\.connection_spec\b.*is on proc \(\/proc\), a kernel filesystem that cannot hold a socket/,
    },
    // A data directory that cannot be created hung the manager at 100 % CPU with no output (Node's
    // recursive mkdir on procfs, opening the greylist database) or failed after startup.
    {
      name: 'a data_dir under /proc (a greylist child keeps its database there)',
      text: (sock) => `data_dir = "/proc/mailgate-hostile/data"\n${managerToml(good(sock))}${GREYLIST_CHILD}`,
      line: 1,
      key: /: data_dir: data directory \/proc\/mailgate-hostile\/data is on proc \(\/proc\), a kernel filesystem that cannot hold files$/,
    },
    {
      name: 'a data_dir under /proc (no child uses it yet)',
      text: (sock) => `data_dir = "/proc/mailgate-hostile/data"\n${managerToml(good(sock))}`,
      line: 1,
      key: /: data_dir: data directory \/proc\/mailgate-hostile\/data is on proc \(\/proc\), a kernel filesystem/,
    },
    {
      name: 'a data_dir under a dangling symlink',
      text: (sock) => `data_dir = "${join(tmp.path, 'dangling', 'data')}"\n${managerToml(good(sock))}${GREYLIST_CHILD}`,
      line: 1,
      key: /: data_dir: cannot create data directory .*dangling\/data: .*dangling is a symbolic link to .*, which does not exist$/,
    },
    {
      name: 'a data_dir under a regular file',
      text: (sock) => `data_dir = "${join(tmp.path, 'regular-file', 'data')}"\n${managerToml(good(sock))}${GREYLIST_CHILD}`,
      line: 1,
      key: /: data_dir: cannot create data directory .*regular-file\/data: .*regular-file is not a directory$/,
    },
    {
      name: 'a greylist sqlite_file under /proc',
      text: (sock) => `data_dir = "${join(tmp.path, 'data')}"\n${managerToml(good(sock))}${GREYLIST_CHILD}sqlite_file = "/proc/mailgate-hostile/greylist.sqlite"\n`,
      line: 14,
      key: /: milter "grey"\.sqlite_file: greylist database directory \/proc\/mailgate-hostile is on proc \(\/proc\), a kernel filesystem that cannot hold a database$/,
    },
    {
      name: 'a 30-day reading_timeout',
      text: (sock) => `${managerToml(good(sock))}reading_timeout = 2592000\n`,
      line: 8,
      key: /milter "one"\.reading_timeout\b.*must be at most 2147483 s, got 2592000/,
    },
    {
      name: 'an end_of_message_timeout of 1e300',
      text: (sock) => `${managerToml(good(sock))}end_of_message_timeout = 1e300\n`,
      line: 8,
      key: /milter "one"\.end_of_message_timeout\b.*must be at most 2147483 s, got 1e\+300/,
    },
  ];

  test.each(cases)('$name', async ({ text, line, key, socket, name }) => {
    setup.check();
    const slug = name.replace(/\W+/g, '-');
    const sock = socket?.(slug) ?? join(tmp.path, `${slug}.sock`);
    const file = join(tmp.path, `${slug}.toml`);
    await writeFile(file, text(sock));
    const r = await runCommand(process.execPath, [MAILGATE_CLI, 'manager', '-c', file], { cwd: REPO_ROOT, timeoutMs: 15_000 });
    const why = `${describeResult(r)}\n--- ${file} ---\n${text(sock)}`;
    expect(r.exitCode, why).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, why).toHaveLength(1);
    expect(lines[0], why).toContain(`${file}:${line}: `);
    expect(lines[0], why).toMatch(key);
    expect(parseRecords(r.stderr), why).toEqual([]); // no JSON log: it never started
    expect(existsSync(sock), why).toBe(false);
  });
});
