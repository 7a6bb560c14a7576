// Proves the content-filter peers (no Mailgate code): offline spamd behind
// spamass-milter, and clamd with an EICAR-only database behind clamav-milter,
// each in front of its own private Postfix. If these fail, a failure in a
// Mailgate test that uses them is not about Mailgate.
//
//   swaks → Postfix → spamass-milter (unix socket) → spamc → spamd  → smtp-sink
//   swaks → Postfix → clamav-milter  (inet socket) → clamd           → smtp-sink
//   node:net → spamd (raw SPAMC/1.5 CHECK)
//
// A peer that cannot start makes every test of its describe FAIL with the
// start error (setupGuard), instead of vitest's "skipped" for a failed
// beforeAll.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempDir } from './harness/tmpdir.js';
import { Teardown } from './harness/teardown.js';
import { inetEndpoint, libmilterSpec, postfixSpec, unixEndpoint } from './harness/endpoint.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { relayOne } from './harness/relay.js';
import { sendWithSwaks } from './harness/swaks.js';
import { describeResult } from './harness/process.js';
import { setupGuard } from './harness/setup-guard.js';
import { startSpamd, spamcCheck, GTUBE, type Spamd } from './harness/spamd.js';
import { startSpamassMilter, SPAMASS_REJECT_TEXT, type SpamassMilter } from './harness/spamass-milter.js';
import { startClamd, EICAR, EICAR_VIRUS_NAME, type Clamd } from './harness/clamd.js';
import { startClamavMilter, type ClamavMilter } from './harness/clamav-milter.js';

const LIMITS = { timeout: 90_000 };

function plainMessage(subject: string, body: string): string {
  return [
    'From: Sender <sender@example.com>',
    'To: Recipient <rcpt@example.org>',
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@example.com>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    body,
    '',
  ].join('\r\n');
}

describe('SpamAssassin: private offline spamd (-L)', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let spamd: Spamd;
  beforeAll(() =>
    setup.run(async () => {
      spamd = td.add(await startSpamd());
      console.log(`spamd ready on 127.0.0.1:${spamd.port} after ${spamd.startupMs} ms`);
    }),
  );
  afterAll(() => td.run());
  const spamdLog = (): void => {
    if (setup.ok) console.error(`--- spamd ---\n${spamd.daemon.output()}`);
  };

  describe('raw SPAMC/1.5 CHECK over node:net', () => {
    test('ham: "Spam: False ; x / 5.0"', async ({ onTestFailed }) => {
      onTestFailed(spamdLog);
      setup.check();
      const reply = await spamcCheck(spamd.port, plainMessage('ordinary', 'Hello,\r\n\r\nsee you at lunch tomorrow.\r\n'));
      expect(reply.statusLine).toBe('SPAMD/1.1 0 EX_OK');
      expect(reply.raw).toMatch(/^Spam: False ; -?\d+\.\d+ \/ 5\.0\r$/m);
      expect(reply.spam).toMatchObject({ isSpam: false, threshold: 5 });
      expect(reply.spam?.score).toBeLessThan(5);
      expect(reply.body).toBe('');
    });

    test('GTUBE: "Spam: True ; 1000+ / 5.0"', async ({ onTestFailed }) => {
      onTestFailed(spamdLog);
      setup.check();
      const reply = await spamcCheck(spamd.port, plainMessage('gtube', `${GTUBE}\r\n`));
      expect(reply.statusLine).toBe('SPAMD/1.1 0 EX_OK');
      expect(reply.raw).toMatch(/^Spam: True ; \d+\.\d+ \/ 5\.0\r$/m);
      expect(reply.spam).toMatchObject({ isSpam: true, threshold: 5 });
      expect(reply.spam?.score).toBeGreaterThanOrEqual(1000);
    });
  });

  describe('swaks → Postfix → spamass-milter -r 15 (unix socket) → spamd → smtp-sink', () => {
    const td2 = new Teardown();
    const setup2 = setupGuard(setup);
    let pf: Postfix;
    let milter: SpamassMilter;
    beforeAll(() =>
      setup2.run(async () => {
        const tmp = await makeTempDir('filters');
        td2.defer(() => tmp.remove());
        const ep = unixEndpoint(tmp.path, 'spamass.sock');
        milter = td2.add(await startSpamassMilter({ spamd, spec: libmilterSpec(ep), rejectScore: 15 }));
        pf = td2.add(await startPostfix({ milterSpec: postfixSpec(ep) }));
      }),
    );
    afterAll(() => td2.run());

    const dump = async (): Promise<void> => {
      if (!setup2.ok) return;
      console.error(`--- spamass-milter ---\n${milter.daemon.output()}\n--- spamd ---\n${spamd.daemon.output()}\n--- maillog ---\n${await pf.log()}`);
    };

    test('an ordinary message arrives with X-Spam-Status: No and X-Spam-Checker-Version', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup2.check();
      const { message } = await relayOne(pf, 'spamass-ham');
      expect(message).toMatch(/^X-Spam-Status: No, score=-?\d+\.\d+ required=5\.0 /m);
      expect(message).toMatch(/^X-Spam-Checker-Version: SpamAssassin 4\.\d+\.\d+ /m);
      // spamd really scanned this very message (spamc PROCESS via spamass-milter).
      const messageId = /^Message-Id: (<[^>]+>)$/im.exec(message)?.[1];
      expect(messageId, message).toBeDefined();
      expect(spamd.daemon.output()).toContain(`spamd: processing message ${messageId ?? '?'} for `);
    });

    test('GTUBE is refused with 550 5.7.1 at end of DATA and never relayed', async ({ onTestFailed }) => {
      onTestFailed(dump);
      setup2.check();
      const sent = await sendWithSwaks({
        port: pf.port,
        from: 'sender@example.com',
        to: 'rcpt@example.org',
        headers: ['Subject: spamass-gtube'],
        body: `This is the GTUBE:\n${GTUBE}\n`,
      });
      expect(sent.exitCode, describeResult(sent)).not.toBe(0);
      expect(sent.stdout, describeResult(sent)).toMatch(new RegExp(`^<\\*\\*\\s+550 5\\.7\\.1 ${SPAMASS_REJECT_TEXT}`, 'm'));
      await pf.waitForLog(/milter-reject: END-OF-MESSAGE .*5\.7\.1 Blocked by SpamAssassin/);
      expect((await pf.sink?.messages())?.some((m) => m.includes('Subject: spamass-gtube'))).toBe(false);
    });
  });
});

describe('ClamAV: swaks → Postfix → clamav-milter (inet socket) → clamd (EICAR-only db) → smtp-sink', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let clamd: Clamd;
  let milter: ClamavMilter;
  let pf: Postfix;
  beforeAll(() =>
    setup.run(async () => {
      clamd = td.add(await startClamd());
      console.log(`clamd ready on ${clamd.socketPath} after ${clamd.startupMs} ms`);
      const ep = await inetEndpoint();
      milter = td.add(await startClamavMilter({ clamd, spec: libmilterSpec(ep), onInfected: 'Reject' }));
      pf = td.add(await startPostfix({ milterSpec: postfixSpec(ep) }));
    }),
  );
  afterAll(() => td.run());

  const dump = async (): Promise<void> => {
    if (!setup.ok) return;
    console.error(
      `--- clamav-milter ---\n${milter.daemon.output()}${await milter.log()}\n--- clamd ---\n${await clamd.log()}\n--- maillog ---\n${await pf.log()}`,
    );
  };

  test('an ordinary message arrives with X-Virus-Scanned and X-Virus-Status: Clean', async ({ onTestFailed }) => {
    onTestFailed(dump);
    setup.check();
    const { message } = await relayOne(pf, 'clamav-clean');
    expect(message).toMatch(/^X-Virus-Scanned: clamav-milter \d+\.\d+\.\d+ at \S+/m);
    expect(message).toMatch(/^X-Virus-Status: Clean$/m);
  });

  test('EICAR is refused with 550 5.7.1 naming the signature and never relayed', async ({ onTestFailed }) => {
    onTestFailed(dump);
    setup.check();
    const sent = await sendWithSwaks({
      port: pf.port,
      from: 'sender@example.com',
      to: 'rcpt@example.org',
      headers: ['Subject: clamav-eicar'],
      body: `Test attachment follows inline:\n${EICAR}\n`,
    });
    expect(sent.exitCode, describeResult(sent)).not.toBe(0);
    const virus = EICAR_VIRUS_NAME.replace(/\./g, '\\.');
    expect(sent.stdout, describeResult(sent)).toMatch(new RegExp(`^<\\*\\*\\s+550 5\\.7\\.1 Virus found: ${virus}`, 'm'));
    await pf.waitForLog(new RegExp(`milter-reject: END-OF-MESSAGE .*5\\.7\\.1 Virus found: ${virus}`));
    expect(await clamd.log()).toMatch(new RegExp(`${virus} FOUND`));
    expect((await pf.sink?.messages())?.some((m) => m.includes('Subject: clamav-eicar'))).toBe(false);
  });
});
