// Proves the interop harness against real peers only (no Mailgate code):
// if these fail, a failure in peers.test.ts is not about Mailgate.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempDir } from './harness/tmpdir.js';
import { Teardown } from './harness/teardown.js';
import { inetEndpoint, libmilterSpec, postfixSpec, unixEndpoint, type Endpoint } from './harness/endpoint.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { startPyMilter, PYMILTER_HEADER, type PyMilter } from './harness/pymilter.js';
import { startOpenDkim, DKIM_DOMAIN } from './harness/opendkim.js';
import { relayOne } from './harness/relay.js';
import { sendWithSwaks } from './harness/swaks.js';
import { runMiltertest } from './harness/miltertest.js';
import { describeResult } from './harness/process.js';

const LIMITS = { timeout: 60_000 };

describe.each<{ name: string; endpoint: (dir: string) => Promise<Endpoint>; steps: 'all' | 'eom-only' }>([
  { name: 'unix socket, all steps', endpoint: async (dir) => unixEndpoint(dir, 'pymilter.sock'), steps: 'all' },
  { name: 'inet socket, eom only', endpoint: () => inetEndpoint(), steps: 'eom-only' },
])('harness: swaks → Postfix → pymilter ($name) → smtp-sink', LIMITS, ({ endpoint, steps }) => {
  const td = new Teardown();
  let pf: Postfix;
  let py: PyMilter;
  beforeAll(async () => {
    const tmp = await makeTempDir('harness');
    td.defer(() => tmp.remove());
    const ep = await endpoint(tmp.path);
    py = td.add(await startPyMilter({ spec: libmilterSpec(ep), steps }));
    pf = td.add(await startPostfix({ milterSpec: postfixSpec(ep) }));
  });
  afterAll(() => td.run());

  test('the delivered message carries the header pymilter added', async ({ onTestFailed }) => {
    onTestFailed(async () => console.error(`--- pymilter ---\n${py.daemon.output()}\n--- maillog ---\n${await pf.log()}`));
    const { message } = await relayOne(pf, `pymilter-${steps}`);
    expect(message).toMatch(new RegExp(`^${PYMILTER_HEADER.name}: ${PYMILTER_HEADER.value}$`, 'm'));
  });
});

describe('harness: miltertest → pymilter (full session)', LIMITS, () => {
  const td = new Teardown();
  let spec = '';
  beforeAll(async () => {
    const ep = await inetEndpoint();
    spec = libmilterSpec(ep);
    td.add(await startPyMilter({ spec, steps: 'all' }));
  });
  afterAll(() => td.run());

  test('every step continues and eom adds X-PyMilter: seen', async () => {
    const r = await runMiltertest(
      `
      local conn = mt.connect(spec, 40, 0.25)
      if conn == nil then error("mt.connect(" .. spec .. ") failed") end
      check("negotiate", mt.negotiate(conn, nil, nil, nil))
      step(conn, "conninfo", mt.conninfo(conn, "client.example", "127.0.0.1"))
      step(conn, "helo", mt.helo(conn, "client.example"))
      step(conn, "mailfrom", mt.mailfrom(conn, "<sender@example.com>"))
      step(conn, "rcptto", mt.rcptto(conn, "<rcpt@example.org>"))
      step(conn, "data", mt.data(conn))
      step(conn, "header", mt.header(conn, "Subject", "hello"))
      step(conn, "eoh", mt.eoh(conn))
      step(conn, "body", mt.bodystring(conn, "hello\\r\\n"))
      step(conn, "eom", mt.eom(conn))
      if not mt.eom_check(conn, MT_HDRADD, "${PYMILTER_HEADER.name}", "${PYMILTER_HEADER.value}") then
        error("eom_check MT_HDRADD ${PYMILTER_HEADER.name} failed")
      end
      check("disconnect", mt.disconnect(conn))
      print("SESSION-OK")
      `,
      { spec },
    );
    expect(r.exitCode, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('SESSION-OK');
  });
});

describe('harness: miltertest → opendkim (sign mode)', LIMITS, () => {
  const td = new Teardown();
  let spec = '';
  beforeAll(async () => {
    const ep = await inetEndpoint();
    spec = libmilterSpec(ep);
    td.add(await startOpenDkim({ spec }));
  });
  afterAll(() => td.run());

  test('eom inserts a DKIM-Signature for d=example.com', async () => {
    const r = await runMiltertest(
      `
      local conn = mt.connect(spec, 40, 0.25)
      if conn == nil then error("mt.connect(" .. spec .. ") failed") end
      -- 127.0.0.1 is in opendkim's default InternalHosts: it signs.
      step(conn, "conninfo", mt.conninfo(conn, "localhost", "127.0.0.1"))
      -- no mt.helo: opendkim negotiates SMFIP_NOHELO and miltertest raises on it
      mt.macro(conn, SMFIC_MAIL, "i", "TESTQID1")
      step(conn, "mailfrom", mt.mailfrom(conn, "<sender@${DKIM_DOMAIN}>"))
      step(conn, "rcptto", mt.rcptto(conn, "<rcpt@example.org>"))
      step(conn, "header From", mt.header(conn, "From", "sender@${DKIM_DOMAIN}"))
      step(conn, "header To", mt.header(conn, "To", "rcpt@example.org"))
      step(conn, "header Subject", mt.header(conn, "Subject", "test"))
      step(conn, "eoh", mt.eoh(conn))
      step(conn, "body", mt.bodystring(conn, "hello\\r\\n"))
      step(conn, "eom", mt.eom(conn), SMFIR_ACCEPT)
      if not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") then
        error("eom_check MT_HDRINSERT DKIM-Signature failed")
      end
      local sig = mt.getheader(conn, "DKIM-Signature", 0)
      if sig == nil then error("no DKIM-Signature header") end
      print("DKIM-Signature:" .. sig)
      check("disconnect", mt.disconnect(conn))
      `,
      { spec },
    );
    expect(r.exitCode, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`DKIM-Signature:.*\\bd=${DKIM_DOMAIN};`));
    expect(r.stdout).toMatch(/\bs=test;/);
  });
});

describe('harness: Postfix with its milter down', LIMITS, () => {
  const td = new Teardown();
  let pf: Postfix;
  beforeAll(async () => {
    const tmp = await makeTempDir('harness');
    td.defer(() => tmp.remove());
    // Nothing listens here: proves smtpd really consults smtpd_milters.
    pf = td.add(await startPostfix({ milterSpec: postfixSpec(unixEndpoint(tmp.path, 'nobody-home.sock')) }));
  });
  afterAll(() => td.run());

  test('milter_default_action=tempfail: 451 4.7.1 and nothing is relayed', async () => {
    const sent = await sendWithSwaks({ port: pf.port, from: 'sender@example.com', to: 'rcpt@example.org' });
    expect(sent.exitCode, describeResult(sent)).not.toBe(0);
    expect(sent.stdout, describeResult(sent)).toMatch(/^<\*\*\s+451[ -]4\.7\.1\b/m);
    expect(await pf.sink?.messages()).toEqual([]);
  });
});
