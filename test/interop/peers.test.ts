// Mailgate's CLI tools against real peers. Needs `npm run build` first
// (spawns node dist/cli/main.js) and the peers from scripts/install-test-peers.sh.
//
//   Postfix smtpd   → mailgate test-client   (we are the milter)
//   miltertest      → mailgate test-client   (we are the milter)
//   mailgate test-server → opendkim, pymilter (we are the MTA)
//
// Postfix reaches test-client over a unix socket inside a temp dir: the dir is
// 0755 and test-client applies mode 0660 with `--unix-socket-group postfix`
// itself, because smtpd connects as the unprivileged `postfix` user.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempDir } from './harness/tmpdir.js';
import { Teardown } from './harness/teardown.js';
import { inetEndpoint, libmilterSpec, postfixSpec, unixEndpoint, type Endpoint } from './harness/endpoint.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { relayOne } from './harness/relay.js';
import { sendWithSwaks } from './harness/swaks.js';
import { runMiltertest } from './harness/miltertest.js';
import { startOpenDkim, DKIM_DOMAIN } from './harness/opendkim.js';
import { startPyMilter, PYMILTER_HEADER } from './harness/pymilter.js';
import { startTestClient, runTestServer, type TestClient } from './harness/mailgate.js';
import { describeResult } from './harness/process.js';

const LIMITS = { timeout: 60_000 };
const ADDED = { name: 'X-Mailgate-Test', value: 'yes' } as const;

describe('Postfix → mailgate test-client --add-header (unix socket)', LIMITS, () => {
  const td = new Teardown();
  let socketPath = '';
  let pf: Postfix;
  let tc: TestClient;
  beforeAll(async () => {
    const tmp = await makeTempDir('peers');
    td.defer(() => tmp.remove());
    const ep = unixEndpoint(tmp.path, 'test-client.sock');
    socketPath = ep.kind === 'unix' ? ep.path : '';
    tc = td.add(await startTestClient({ spec: libmilterSpec(ep), args: ['--unix-socket-group', 'postfix', '--add-header', `${ADDED.name}: ${ADDED.value}`] }));
    pf = td.add(await startPostfix({ milterSpec: postfixSpec(ep) }));
  });
  afterAll(() => td.run());

  test('the relayed message carries the added header', async ({ onTestFailed }) => {
    onTestFailed(async () => console.error(`--- test-client ---\n${tc.daemon.output()}\n--- maillog ---\n${await pf.log()}`));
    // test-client applied mode 0660 and group postfix to its socket itself; Postfix gets through.
    const sock = statSync(socketPath);
    expect(sock.mode & 0o777).toBe(0o660);
    expect(sock.gid).toBe(Number(execFileSync('getent', ['group', 'postfix'], { encoding: 'utf8' }).split(':')[2]));
    const { message } = await relayOne(pf, 'via-test-client');
    expect(message).toMatch(new RegExp(`^${ADDED.name}: ${ADDED.value}$`, 'm'));
    // test-client reported what Postfix sent (helo name from swaks, envelope sender).
    expect(tc.stdout()).toMatch(/client\.example/i);
    expect(tc.stdout()).toMatch(/sender@example\.com/i);
  });
});

describe('Postfix → mailgate test-client --status reject (unix socket)', LIMITS, () => {
  const td = new Teardown();
  let pf: Postfix;
  let tc: TestClient;
  beforeAll(async () => {
    const tmp = await makeTempDir('peers');
    td.defer(() => tmp.remove());
    const ep = unixEndpoint(tmp.path, 'test-client.sock');
    tc = td.add(await startTestClient({ spec: libmilterSpec(ep), args: ['--unix-socket-group', 'postfix', '--status', 'reject'] }));
    pf = td.add(await startPostfix({ milterSpec: postfixSpec(ep) }));
  });
  afterAll(() => td.run());

  test('swaks sees a 5xx and nothing reaches the sink', async ({ onTestFailed }) => {
    onTestFailed(async () => console.error(`--- test-client ---\n${tc.daemon.output()}\n--- maillog ---\n${await pf.log()}`));
    const sent = await sendWithSwaks({
      port: pf.port,
      from: 'sender@example.com',
      to: 'rcpt@example.org',
      headers: ['Subject: to-be-rejected'],
    });
    expect(sent.exitCode, describeResult(sent)).not.toBe(0);
    // swaks marks a failed reply "<** ". Which command is refused depends on
    // the stage test-client rejects at; Postfix says "5.7.1 Command rejected".
    expect(sent.stdout, describeResult(sent)).toMatch(/^<\*\*\s+5\d\d[ -]5\.7\.1\b/m);
    await pf.waitForLog(/milter-reject: /);
    expect(await pf.log()).not.toMatch(/status=sent/);
    expect(await pf.sink?.messages()).toEqual([]);
  });
});

describe.each<{ name: string; endpoint: (dir: string) => Promise<Endpoint>; bracketed: boolean }>([
  { name: 'unix:/path', endpoint: async (dir) => unixEndpoint(dir, 'test-client.sock'), bracketed: false },
  { name: 'inet:PORT@127.0.0.1', endpoint: () => inetEndpoint(), bracketed: false },
  { name: 'inet:PORT@[127.0.0.1]', endpoint: () => inetEndpoint(), bracketed: true },
])('miltertest → mailgate test-client --add-header on $name', LIMITS, ({ endpoint, bracketed }) => {
  const td = new Teardown();
  let tc: TestClient;
  let spec = '';
  beforeAll(async () => {
    const tmp = await makeTempDir('peers');
    td.defer(() => tmp.remove());
    const ep = await endpoint(tmp.path);
    spec = libmilterSpec(ep); // miltertest's spelling (no brackets)
    const listen = bracketed && ep.kind === 'inet' ? `inet:${ep.port}@[${ep.host}]` : spec;
    tc = td.add(await startTestClient({ spec: listen, args: ['--add-header', `${ADDED.name}: ${ADDED.value}`] }));
  });
  afterAll(() => td.run());

  test('a full session continues at every step and eom adds the header', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`--- test-client ---\n${tc.daemon.output()}`));
    const r = await runMiltertest(
      `
      local conn = mt.connect(spec, 40, 0.25)
      if conn == nil then error("mt.connect(" .. spec .. ") failed") end
      check("negotiate", mt.negotiate(conn, nil, nil, nil))
      step(conn, "conninfo", mt.conninfo(conn, "client.example", "127.0.0.1"))
      step(conn, "helo", mt.helo(conn, "helo.client.example"))
      step(conn, "mailfrom", mt.mailfrom(conn, "<sender@example.com>"))
      step(conn, "rcptto", mt.rcptto(conn, "<rcpt@example.org>"))
      step(conn, "header", mt.header(conn, "Subject", "miltertest"))
      step(conn, "eoh", mt.eoh(conn))
      step(conn, "body", mt.bodystring(conn, "hello\\r\\n"))
      step(conn, "eom", mt.eom(conn))
      if not mt.eom_check(conn, MT_HDRADD, "${ADDED.name}", "${ADDED.value}") then
        error("eom_check MT_HDRADD ${ADDED.name}: ${ADDED.value} failed")
      end
      check("disconnect", mt.disconnect(conn))
      print("SESSION-OK")
      `,
      { spec },
    );
    expect(r.exitCode, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('SESSION-OK');
  });

  test('test-client printed the commands it received', async () => {
    // Output is flushed asynchronously; give it a moment after the session.
    const deadline = Date.now() + 5_000;
    while (!/sender@example\.com/i.test(tc.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const out = tc.stdout();
    expect(out, out).toMatch(/helo/i);
    expect(out, out).toMatch(/helo\.client\.example/i);
    expect(out, out).toMatch(/sender@example\.com/i);
    expect(out, out).toMatch(/rcpt@example\.org/i);
    expect(out, out).toMatch(/Subject/);
  });
});

describe('mailgate test-server → opendkim (sign mode)', LIMITS, () => {
  const td = new Teardown();
  let spec = '';
  let dkimOutput: () => string = () => '';
  beforeAll(async () => {
    spec = libmilterSpec(await inetEndpoint());
    const dkim = td.add(await startOpenDkim({ spec }));
    dkimOutput = () => dkim.daemon.output();
  });
  afterAll(() => td.run());

  test('opendkim signs and test-server reports the DKIM-Signature', async ({ onTestFailed }) => {
    onTestFailed(() => console.error(`--- opendkim ---\n${dkimOutput()}`));
    const r = await runTestServer([
      '-s', spec,
      // opendkim signs only for InternalHosts (default 127.0.0.1) and From: in its Domain.
      '--connect-host', 'localhost',
      '--connect-address', 'inet:12345@[127.0.0.1]',
      '-f', `sender@${DKIM_DOMAIN}`,
      '-r', 'rcpt@example.org',
      '-h', `From:sender@${DKIM_DOMAIN}`,
      '-h', 'To:rcpt@example.org',
      '-h', 'Subject:test',
      '--output-message',
    ]); // prettier-ignore
    expect(r.exitCode, describeResult(r)).toBe(0);
    expect(r.stdout, describeResult(r)).toMatch(/^status: accept\b/m);
    expect(r.stdout, describeResult(r)).toMatch(/^elapsed-time: [\d.]+ seconds$/m);
    // The signature is folded; its first line carries d= and s=.
    expect(r.stdout, describeResult(r)).toMatch(new RegExp(`DKIM-Signature[\\s\\S]{0,200}\\bd=${DKIM_DOMAIN.replace('.', '\\.')};`));
    expect(r.stdout, describeResult(r)).toMatch(/DKIM-Signature[\s\S]{0,200}\bs=test;/);
  });
});

describe.each<{ steps: 'all' | 'eom-only' }>([{ steps: 'all' }, { steps: 'eom-only' }])(
  'mailgate test-server → pymilter ($steps)',
  LIMITS,
  ({ steps }) => {
    const td = new Teardown();
    let spec = '';
    let pyOutput: () => string = () => '';
    beforeAll(async () => {
      spec = libmilterSpec(await inetEndpoint());
      // 'eom-only': pymilter negotiates NOCONNECT/NOHELO/.../NOBODY; test-server must skip those steps.
      const py = td.add(await startPyMilter({ spec, steps }));
      pyOutput = () => py.daemon.output();
    });
    afterAll(() => td.run());

    test('pymilter continues and its header shows in the output message', async ({ onTestFailed }) => {
      onTestFailed(() => console.error(`--- pymilter ---\n${pyOutput()}`));
      const r = await runTestServer(['-s', spec, '-f', 'sender@example.com', '-r', 'rcpt@example.org', '-h', 'Subject:pymilter', '--output-message']);
      expect(r.exitCode, describeResult(r)).toBe(0);
      expect(r.stdout, describeResult(r)).toMatch(/^status: (pass|accept)\b/m);
      expect(r.stdout, describeResult(r)).toMatch(new RegExp(`${PYMILTER_HEADER.name}:\\s*${PYMILTER_HEADER.value}`));
    });
  },
);
