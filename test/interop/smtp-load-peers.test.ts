// Proves the load and bad-peer helpers with real peers only: smtp-source (harness/smtp-source.ts)
// against smtp-sink in its modes (harness/smtp-sink.ts: counting, saving, 4xx/5xx, 421), and
// smtp-source → private Postfix → smtp-sink, the reference path of `npm run bench:smtp`.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Teardown } from './harness/teardown.js';
import { setupGuard } from './harness/setup-guard.js';
import { startSmtpSink, type SmtpSink } from './harness/smtp-sink.js';
import { runSmtpSource } from './harness/smtp-source.js';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { parseScenario, runScenario } from './harness/smtp-scenario.js';

const LIMITS = { timeout: 60_000 };

const transaction = (dataReply: string): ReturnType<typeof parseScenario> =>
  parseScenario('sink', {
    description: 'one message',
    steps: [
      { expect: '220' },
      { send: 'EHLO client.example', expect: '250' },
      { send: 'MAIL FROM:<a@example.org>', expect: '250' },
      { send: 'RCPT TO:<b@example.net>', expect: '250' },
      { send: 'DATA', expect: '354' },
      { raw: 'Subject: x\r\n\r\nbody\r\n.\r\n', expect: dataReply },
      { send: 'QUIT', expect: '221', close: true },
    ],
  });

describe('harness: smtp-source and smtp-sink', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let counting: SmtpSink;
  let saving: SmtpSink;
  beforeAll(() =>
    setup.run(async () => {
      counting = td.add(await startSmtpSink({ save: false }));
      saving = td.add(await startSmtpSink());
    }),
  );
  afterAll(() => td.run());

  test('200 messages of 4 KiB in 10 sessions: smtp-source completes 200, the counting sink counts 200', async () => {
    setup.check();
    const r = await runSmtpSource({ port: counting.port, sessions: 10, messages: 200, size: 4096, from: 'a@example.org', to: 'b@example.net' });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.completed).toBe(200);
    expect(await counting.waitForCount(200)).toBe(200);
    expect(await counting.messages()).toEqual([]);
  });

  test('the saving sink keeps each message, numbered recipients, 4 KiB payload', async () => {
    setup.check();
    const r = await runSmtpSource({ port: saving.port, sessions: 2, messages: 3, size: 4096, to: 'rcpt@example.net', numberRecipients: true, reuseConnection: true });
    expect(r.exitCode, r.output).toBe(0);
    const dumps = await saving.waitForMessages(3);
    expect(dumps.map((d) => /^X-Rcpt-Args: <(\d+)rcpt@example\.net>/m.exec(d)?.[1]).sort()).toEqual(['1', '2', '3']);
    // -l counts the payload with CRLF line ends; the dump has LF only (80-byte lines become 79).
    for (const d of dumps) expect(d.split('\n\n').slice(1).join('\n\n').length).toBeGreaterThanOrEqual(4000);
    expect(saving.count()).toBe(3);
  });

  test('hard reject: a 5xx to RCPT stops smtp-source with nothing completed', async () => {
    setup.check();
    const sink = td.add(await startSmtpSink({ save: false, hardReject: ['RCPT'], hardReply: '550 5.1.1 no such user' }));
    const r = await runSmtpSource({ port: sink.port, messages: 1 });
    expect(r.exitCode, r.output).not.toBe(0);
    expect(r.output).toMatch(/550 5\.1\.1 no such user/);
    expect(r.completed).toBe(0);
  });

  test('soft reject of the message: 450 4.3.0 after the final dot', async () => {
    setup.check();
    const sink = td.add(await startSmtpSink({ softReject: ['.'] }));
    const r = await runScenario(transaction('450 4.3.0'), { name: 'sink', port: sink.port });
    expect(r.ok, r.transcript).toBe(true);
  });

  test('421 and disconnect after MAIL', async () => {
    setup.check();
    const sink = td.add(await startSmtpSink({ closeAfter: ['MAIL'] }));
    const scenario = parseScenario('421', {
      description: '',
      steps: [{ expect: '220' }, { send: 'EHLO client.example', expect: '250' }, { send: 'MAIL FROM:<a@example.org>', expect: '421', close: true }],
    });
    const r = await runScenario(scenario, { name: 'sink', port: sink.port });
    expect(r.ok, r.transcript).toBe(true);
  });
});

describe('harness: smtp-source → private Postfix → counting smtp-sink', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let sink: SmtpSink;
  let pf: Postfix;
  beforeAll(() =>
    setup.run(async () => {
      sink = td.add(await startSmtpSink({ save: false }));
      pf = td.add(await startPostfix({ milterSpec: '', relayPort: sink.port }));
    }),
  );
  afterAll(() => td.run());

  test('every accepted message is relayed and counted at the sink', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(async () => console.error(await pf.log()));
    const r = await runSmtpSource({ port: pf.port, sessions: 5, messages: 50, size: 4096, from: 'a@example.org', to: 'b@example.net' });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.completed).toBe(50);
    expect(await sink.waitForCount(50, 30_000)).toBe(50);
  });
});
