// DSN and retry end to end through `mailgate start` with short queue timings: a success notice
// (NOTIFY=SUCCESS) for a local delivery, a bounce with the remote's 5xx reply in Diagnostic-Code, a
// remote answering 4xx retried and bounced after maximal_queue_lifetime, a remote that is down deferred
// (listed by `mailgate queue list`) and delivered by `mailgate queue flush` once it is up, no bounce for
// a message from <>, and a bad destination not delaying a good one. The installed swaks (20201014) has
// no --dsn-* options, so the messages with DSN parameters are sent as raw SMTP (the scenario runner).
// A remote that drops the connection after the data is retried and bounced without wedging the queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMta, type Mta } from '../interop/harness/mta.js';
import { reservePort } from '../interop/harness/ports.js';
import { waitFor } from '../interop/harness/process.js';
import { runScenario, type Scenario, type ScenarioStep } from '../interop/harness/smtp-scenario.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../interop/harness/smtp-sink.js';
import { swaksRaw } from '../interop/harness/swaks.js';

const swaks = (port: number, args: readonly string[]) => swaksRaw(['--server', `127.0.0.1:${port}`, ...args]);

const LIMITS = { timeout: 60_000 };


/** [queue] timings in seconds (fractions allowed): retries every second or two. */
function queueToml(lifetime: number, backoff = 1): string {
  return [
    '[queue]',
    `minimal_backoff_time = ${backoff}`,
    `maximal_backoff_time = ${backoff * 2}`,
    `maximal_queue_lifetime = ${lifetime}`,
    `bounce_queue_lifetime = ${lifetime}`,
    `queue_run_delay = ${backoff}`,
  ].join('\n');
}

/** One message as raw SMTP, so that MAIL and RCPT can carry RET/ENVID/NOTIFY/ORCPT. */
async function sendRaw(port: number, mail: string, rcpts: readonly string[], subject: string): Promise<string> {
  const step = (send: string, code: string): ScenarioStep => ({ send, expect: [{ code }], close: false });
  const scenario: Scenario = {
    name: subject,
    description: '',
    needs: {},
    steps: [
      { expect: [{ code: '220' }], close: false },
      step('EHLO client.example', '250'),
      step(`MAIL FROM:${mail}`, '250'),
      ...rcpts.map((r) => step(`RCPT TO:${r}`, '250')),
      step('DATA', '354'),
      { raw: `From: alice@localhost\r\nTo: bob@localhost\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@client.example>\r\n\r\nbody\r\n.\r\n`, expect: [{ code: '250' }], close: false },
      { send: 'QUIT', expect: [{ code: '221' }], close: true },
    ],
  };
  const r = await runScenario(scenario, { name: 'mailgate', port });
  expect(r.ok, r.transcript).toBe(true);
  return /queued as ([0-9A-Z]+)/.exec(r.transcript)?.[1] ?? expect.unreachable();
}

const queueList = async (mta: Mta): Promise<string> => {
  const r = await mta.cli(['queue', 'list']);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
};

const waitQueueEmpty = (mta: Mta, timeoutMs = 20_000): Promise<string> =>
  waitFor('an empty queue', async () => {
    const out = await queueList(mta);
    return out === 'Mail queue is empty\n' ? out : undefined;
  }, { timeoutMs, daemon: mta.daemon() });

/** The DSN among `mail` whose original Subject is `subject`. */
function dsnFor(mail: readonly string[], subject: string): string | undefined {
  return mail.find((m) => /^Content-Type: multipart\/report;[^]*report-type="?delivery-status/im.test(m) && m.includes(`Subject: ${subject}`));
}

async function mtaWithSink(sinkOpts: SmtpSinkOptions | 'down', queue: string): Promise<{ mta: Mta; sink?: SmtpSink; port: number }> {
  const sink = sinkOpts === 'down' ? undefined : await startSmtpSink(sinkOpts);
  // 'down': a port held until makeMta has chosen its own, so that none of them is this one
  const down = sink === undefined ? await reservePort() : undefined;
  const port = sink?.port ?? (down?.port as number);
  const mta = await makeMta({ extra: `${queue}\n[delivery]\nrelay_host = "[127.0.0.1]:${port}"\nconnect_timeout = 2\n` });
  await down?.release();
  await mta.addUser('alice@localhost', 'alice-pass-1');
  await mta.addUser('bob@localhost', 'bob-pass-1');
  await mta.start();
  return { mta, ...(sink ? { sink } : {}), port };
}

describe('mailgate start: success notices and bounces (remote answers 5xx)', LIMITS, () => {
  let mta: Mta;
  let sink: SmtpSink;
  beforeAll(async () => {
    ({ mta, sink } = (await mtaWithSink({ hardReject: ['RCPT'], hardReply: '550 5.1.1 Recipient unknown here' }, queueToml(30))) as { mta: Mta; sink: SmtpSink });
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
    await sink?.stop();
  });

  it('NOTIFY=SUCCESS to a local user: the message is delivered and the sender gets a success DSN (Action: delivered)', async () => {
    const id = await sendRaw(mta.mxPort, '<alice@localhost> RET=HDRS ENVID=env-success-1', ['<bob@localhost> NOTIFY=SUCCESS ORCPT=rfc822;bob@localhost'], 'success please');
    const [msg] = await mta.waitForMaildir('bob@localhost', 1);
    expect(msg).toContain('Subject: success please');
    const mail = await waitFor('the success DSN in alice\'s Maildir', async () => {
      const m = await mta.maildir('alice@localhost');
      return dsnFor(m, 'success please') ? m : undefined;
    }, { timeoutMs: 20_000, daemon: mta.daemon() });
    const dsn = dsnFor(mail, 'success please')!;
    expect(dsn).toMatch(/^From: MAILER-DAEMON@mx\.mailgate\.test/im);
    expect(dsn).toMatch(/^Original-Envelope-Id: env-success-1/m);
    expect(dsn).toMatch(/^Original-Recipient: rfc822; ?bob@localhost/m);
    expect(dsn).toMatch(/^Final-Recipient: rfc822; ?bob@localhost/m);
    expect(dsn).toMatch(/^Action: delivered/m);
    expect(dsn).toMatch(/^Status: 2\.\d\.\d/m);
    expect(dsn).toContain(id);
    await waitQueueEmpty(mta);
  });

  it('a remote 5xx: the local sender gets a bounce with the remote reply in Diagnostic-Code', async () => {
    const r = await swaks(mta.mxPort, ['--from', 'alice@localhost', '--to', 'carol@remote.example', '--header', 'Subject: bounce me']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const mail = await waitFor('the bounce in alice\'s Maildir', async () => {
      const m = await mta.maildir('alice@localhost');
      return dsnFor(m, 'bounce me') ? m : undefined;
    }, { timeoutMs: 20_000, daemon: mta.daemon() });
    const dsn = dsnFor(mail, 'bounce me')!;
    expect(dsn).toMatch(/^Final-Recipient: rfc822; ?carol@remote\.example/m);
    expect(dsn).toMatch(/^Action: failed/m);
    expect(dsn).toMatch(/^Status: 5\.1\.1/m);
    expect(dsn).toMatch(/^Diagnostic-Code: smtp; ?550 5\.1\.1 Recipient unknown here/m);
    await waitQueueEmpty(mta);
  });

  it('a message from <> that fails is not bounced', async () => {
    const before = (await mta.maildir('alice@localhost')).length;
    const r = await swaks(mta.mxPort, ['--from', '<>', '--to', 'dave@remote.example', '--header', 'Subject: from the null sender']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    // The sink saw the attempt (RCPT refused), then the message left the queue without a bounce.
    await waitQueueEmpty(mta);
    const id = /queued as ([0-9A-Z]+)/.exec(r.stdout)![1]!;
    const log = mta.daemon().output();
    expect(log).toMatch(new RegExp(`${id}: to=<dave@remote\\.example>, relay=[^\\n]*status=bounced`));
    expect(log).not.toContain(`${id}: sender non-delivery notification`);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await mta.maildir('alice@localhost');
    expect(after).toHaveLength(before);
    expect(after.join('\n')).not.toContain('from the null sender');
    expect(await queueList(mta)).toBe('Mail queue is empty\n');
  });
});

describe('mailgate start: a remote that answers 4xx is retried, then bounced after maximal_queue_lifetime', LIMITS, () => {
  let mta: Mta;
  let sink: SmtpSink;
  beforeAll(async () => {
    ({ mta, sink } = (await mtaWithSink({ softReject: ['RCPT'], softReply: '450 4.2.0 Mailbox busy, try later' }, queueToml(8))) as { mta: Mta; sink: SmtpSink });
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
    await sink?.stop();
  });

  it('retries, then bounces with the last 4xx reply', async () => {
    const r = await swaks(mta.mxPort, ['--from', 'alice@localhost', '--to', 'erin@remote.example', '--header', 'Subject: try later']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    await waitFor('a deferred message in the queue listing', async () => ((await queueList(mta)).includes('erin@remote.example') ? true : undefined), {
      timeoutMs: 10_000,
    });
    const mail = await waitFor('the bounce in alice\'s Maildir', async () => {
      const m = await mta.maildir('alice@localhost');
      return dsnFor(m, 'try later') ? m : undefined;
    }, { timeoutMs: 30_000, daemon: mta.daemon() });
    const dsn = dsnFor(mail, 'try later')!;
    expect(dsn).toMatch(/^Action: failed/m);
    expect(dsn).toMatch(/^Diagnostic-Code: smtp; ?450 4\.2\.0 Mailbox busy, try later/m);
    // Several attempts were made (over one reused connection: smtp-sink counts a single session).
    const id = /queued as ([0-9A-Z]+)/.exec(r.stdout)![1]!;
    const attempts = mta.daemon().output().split('\n').filter((l) => l.includes(`"msg":"${id}: to=<erin@remote.example>, relay=`) && l.includes('status=deferred'));
    expect(attempts.length, mta.daemon().output()).toBeGreaterThanOrEqual(2);
    expect(mta.daemon().output()).toContain(`${id}: from=<alice@localhost>, status=expired, returned to sender`);
    await waitQueueEmpty(mta);
  });
});

describe('mailgate start: a remote that is down', LIMITS, () => {
  let mta: Mta;
  let port: number;
  let sink: SmtpSink | undefined;
  beforeAll(async () => {
    // Long back-off: only the flush makes the next attempt.
    ({ mta, port } = await mtaWithSink('down', queueToml(3600, 300)));
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
    await sink?.stop();
  });

  it('defers it (queue list shows it), delivers local mail meanwhile, and delivers it on queue flush once the remote is up', async () => {
    const r = await swaks(mta.mxPort, ['--from', 'alice@localhost', '--to', 'frank@remote.example,bob@localhost', '--header', 'Subject: half and half']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const id = /queued as ([0-9A-Z]+)/.exec(r.stdout)![1]!;
    // The good destination is not held up by the bad one.
    const [local] = await mta.waitForMaildir('bob@localhost', 1, 10_000);
    expect(local).toContain('Subject: half and half');
    const listing = await waitFor('the deferred recipient in the queue listing', async () => {
      const out = await queueList(mta);
      return out.includes(id) && out.includes('frank@remote.example') && out.includes('(') ? out : undefined;
    }, { timeoutMs: 15_000 });
    expect(listing).not.toContain('bob@localhost');
    // Another local message goes through at once while the remote one waits.
    const again = await swaks(mta.mxPort, ['--from', 'alice@localhost', '--to', 'bob@localhost', '--header', 'Subject: not delayed']);
    expect(again.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    await mta.waitForMaildir('bob@localhost', 2, 10_000);
    // The remote comes up on the port; the flush retries at once (the back-off would wait 300 s).
    sink = await startSmtpSink({ port });
    const flush = await mta.cli(['queue', 'flush']);
    expect(flush.exitCode, flush.stderr).toBe(0);
    const dumps = await sink.waitForMessages(1, 20_000);
    expect(dumps.join('\n')).toContain('Subject: half and half');
    await waitQueueEmpty(mta);
    // No bounce, no delay warning.
    expect((await mta.maildir('alice@localhost')).length).toBe(0);
  });
});

describe('mailgate start: a remote that drops the connection mid-DATA', LIMITS, () => {
  let mta: Mta;
  let sink: SmtpSink;
  beforeAll(async () => {
    // smtp-sink reads the message, then hangs up without answering the final dot.
    ({ mta, sink } = (await mtaWithSink({ dropAfter: ['.'] }, queueToml(4))) as { mta: Mta; sink: SmtpSink });
  }, 60_000);
  afterAll(async () => {
    await mta?.remove();
    await sink?.stop();
  });

  it('is retried, then bounced; the queue does not wedge and local mail still flows', async () => {
    const r = await swaks(mta.mxPort, ['--from', 'alice@localhost', '--to', 'gina@remote.example', '--header', 'Subject: cut off']);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    const id = /queued as ([0-9A-Z]+)/.exec(r.stdout)![1]!;
    const local = await swaks(mta.mxPort, ['--from', 'alice@localhost', '--to', 'bob@localhost', '--header', 'Subject: meanwhile']);
    expect(local.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    await mta.waitForMaildir('bob@localhost', 1, 10_000);
    const mail = await waitFor('the bounce in alice\'s Maildir', async () => {
      const m = await mta.maildir('alice@localhost');
      return dsnFor(m, 'cut off') ? m : undefined;
    }, { timeoutMs: 30_000, daemon: mta.daemon() });
    const dsn = dsnFor(mail, 'cut off')!;
    expect(dsn).toMatch(/^Final-Recipient: rfc822; ?gina@remote\.example/m);
    expect(dsn).toMatch(/^Action: failed/m);
    expect(dsn).toMatch(/^Status: 4\.\d\.\d/m);
    const deferred = mta.daemon().output().split('\n').filter((l) => l.includes(`"msg":"${id}: to=<gina@remote.example>`) && l.includes('status=deferred'));
    expect(deferred.length, mta.daemon().output()).toBeGreaterThanOrEqual(2);
    // The sink got the data each time (it counts every final dot).
    expect(sink.count()).toBeGreaterThanOrEqual(2);
    await waitQueueEmpty(mta);
  });
});
