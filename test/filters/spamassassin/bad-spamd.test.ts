// The filter against fake spamd servers on loopback: every way spamd can fail ends in on_fail within
// the timeout, with exactly one log line; nothing hangs, nothing throws.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpamAssassinFilter } from '../../../src/filters/spamassassin/index.js';
import { spamdCall, SpamdError } from '../../../src/filters/spamassassin/client.js';
import type { SpamAssassinOptions } from '../../../src/config/builtins/spamassassin.js';
import { captureLogger, closedPort, drive, fakeSpamd, spamOptions, testContext, type FakeSpamd, type Message } from './helpers.js';
import { hangGuard } from '../../hang-guard.js';

const servers: FakeSpamd[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const MESSAGE: Message = {
  headers: [
    ['From', 'a@example.net'],
    ['To', 'b@example.org'],
    ['Subject', 'hello'],
    ['X-Spam-Flag', 'NO'],
    ['X-Spam-Status', 'No, score=-5.0'],
  ],
  body: 'Hello,\r\nsee you.\r\n',
};

const FORGED_REMOVED = [
  { kind: 'changeHeader', name: 'X-Spam-Flag', index: 1, value: '' },
  { kind: 'changeHeader', name: 'X-Spam-Status', index: 1, value: '' },
];

async function run(overrides: Partial<SpamAssassinOptions>, message = MESSAGE) {
  const { logger, lines } = captureLogger();
  const filter = createSpamAssassinFilter('spamassassin', spamOptions({ timeout: 1, connectTimeout: 0.5, ...overrides }), testContext(logger));
  const noHang = hangGuard(1000); // the timeout above
  const driven = await drive(filter, message);
  noHang();
  return { ...driven, lines };
}

async function serve(behave: Parameters<typeof fakeSpamd>[0], immediate = false): Promise<FakeSpamd> {
  const s = await fakeSpamd(behave, immediate);
  servers.push(s);
  return s;
}

const GOOD_HEADERS = 'X-Spam-Checker-Version: SpamAssassin 4.0.1\r\nX-Spam-Level: \r\nX-Spam-Status: No, score=0.1 required=5.0\r\nSubject: hello\r\n\r\n';

describe('spamassassin filter with a well-behaved fake spamd', () => {
  it('sends HEADERS with User and without the incoming X-Spam-* fields, then swaps them for spamd’s', async () => {
    const spamd = await serve((sock) => sock.end(`SPAMD/1.1 0 EX_OK\r\nContent-length: ${GOOD_HEADERS.length}\r\nSpam: False ; 0.1 / 5.0\r\n\r\n${GOOD_HEADERS}`));
    const r = await run({ spamd: spamd.spec, modifyMessage: false, user: 'mailuser' });
    const request = spamd.requests[0]!.toString('latin1');
    const sent = 'From: a@example.net\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nHello,\r\nsee you.\r\n';
    expect(request).toBe(`HEADERS SPAMC/1.5\r\nContent-length: ${sent.length}\r\nUser: mailuser\r\n\r\n${sent}`);
    expect(r.eom).toEqual({
      reply: { status: 'continue' },
      changes: [
        ...FORGED_REMOVED,
        { kind: 'addHeader', name: 'X-Spam-Checker-Version', value: 'SpamAssassin 4.0.1' },
        { kind: 'addHeader', name: 'X-Spam-Level', value: '' },
        { kind: 'addHeader', name: 'X-Spam-Status', value: 'No, score=0.1 required=5.0' },
      ],
    });
    expect(r.lines.filter((l) => l.level >= 30)).toEqual([]);
  });

  it('negotiates only what it uses', async () => {
    const r = await run({ spamd: 'inet:1@127.0.0.1', modifyMessage: false, skipAuthenticated: false, timeout: 0.2, connectTimeout: 0.1 });
    expect([...r.caps.stages].sort()).toEqual(['body', 'endOfMessage', 'header']);
    expect([...r.caps.actions].sort()).toEqual(['addHeader', 'changeHeader']);
    const full = await run({ spamd: 'inet:1@127.0.0.1', skipNetworks: ['10.0.0.0/8'], timeout: 0.2, connectTimeout: 0.1 });
    expect([...full.caps.stages].sort()).toEqual(['body', 'connect', 'endOfMessage', 'header', 'mail']);
    expect([...full.caps.actions].sort()).toEqual(['addHeader', 'changeBody', 'changeHeader', 'setMacroLists']);
    expect(full.caps.macros).toEqual({ mail: ['{auth_authen}', '{auth_type}'] });
  });
});

describe('spamassassin filter with a misbehaving spamd', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['an unreachable port', async () => `inet:${await closedPort()}@127.0.0.1`, /cannot connect: ECONNREFUSED/],
    [
      'a connection closed mid-answer',
      async () => (await serve((s) => s.end('SPAMD/1.1 0 EX_OK\r\nContent-length: 500\r\nSpam: False ; 0.0 / 5.0\r\n\r\nX-Spam-Sta'))).spec,
      /cut short: 10 of 500/,
    ],
    ['a reset mid-answer', async () => (await serve((s) => (s.write('SPAMD/1.1 0 EX_OK\r\nContent-le'), setTimeout(() => s.resetAndDestroy(), 20)))).spec, /./],
    ['a garbage reply', async () => (await serve((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'))).spec, /not a SPAMD/],
    ['binary garbage', async () => (await serve((s) => s.end(Buffer.from([0, 255, 13, 10, 13, 10, 7])))).spec, /not a SPAMD/],
    ['a close without a word', async () => (await serve((s) => s.end())).spec, /empty response/],
    ['EX_TEMPFAIL', async () => (await serve((s) => s.end('SPAMD/1.0 75 EX_TEMPFAIL\r\n'))).spec, /answered 75 EX_TEMPFAIL/],
    ['EX_PROTOCOL before reading the message', async () => (await serve((s) => s.end('SPAMD/1.0 76 Bad header line: x\r\n'), true)).spec, /answered 76 EX_PROTOCOL: Bad header line/],
    ['an answer without Spam:', async () => (await serve((s) => s.end('SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n'))).spec, /without a Spam: header/],
    ['an endless answer', async () => (await serve((s) => s.end(`SPAMD/1.1 0 EX_OK\r\nContent-length: 9000000\r\nSpam: True ; 1.0 / 5.0\r\n\r\n${'x'.repeat(2_000_000)}`))).spec, /larger than/],
    ['a spamd that never answers', async () => (await serve(() => undefined)).spec, /no complete answer within 1000 ms/],
    [
      'a spamd that dribbles',
      async () =>
        (
          await serve((s) => {
            // A valid answer, one byte every 50 ms: it would take 4 s.
            const answer = 'SPAMD/1.1 0 EX_OK\r\nContent-length: 20\r\nSpam: False ; 0.0 / 5.0\r\n\r\nX-Spam-Status: No\r\n\r\n';
            let i = 0;
            const t = setInterval(() => (s.destroyed || i >= answer.length ? clearInterval(t) : s.write(answer[i++]!)), 50);
          })
        ).spec,
      /no complete answer within 1000 ms/,
    ],
    ['a missing unix socket', async () => 'unix:/nonexistent/spamd.sock', /cannot connect: ENOENT/],
  ];

  it.each(cases)('%s: on_fail = accept passes it with forged X-Spam-* removed, one log line, within the timeout', async (_what, spec, why) => {
    const r = await run({ spamd: await spec() });
    expect(r.eom).toEqual({ reply: { status: 'continue' }, changes: FORGED_REMOVED });
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]!.level).toBe(40);
    expect(r.lines[0]!.msg).toMatch(why);
    expect(r.lines[0]!.msg).toContain('accepted unscanned (on_fail = accept)');
  });

  it.each(cases.filter(([what]) => ['an unreachable port', 'a garbage reply', 'a spamd that never answers'].includes(what)))(
    '%s: on_fail = tempfail answers 451 4.7.1 within the timeout',
    async (_what, spec, why) => {
      const r = await run({ spamd: await spec(), onFail: 'tempfail' });
      expect(r.eom?.reply).toMatchObject({ status: 'tempfail', code: 451, enhancedCode: '4.7.1' });
      expect(r.eom?.changes).toEqual([]);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]!.msg).toMatch(why);
      expect(r.lines[0]!.msg).toContain('tempfailed (on_fail = tempfail)');
    },
  );
});

describe('spamassassin filter skips', () => {
  it('passes a message over max_size unscanned with one log line, never contacting spamd', async () => {
    const spamd = await serve((s) => s.end('SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n'));
    const big: Message = { headers: MESSAGE.headers, body: Buffer.alloc(200_000, 'a\r\n') };
    const r = await run({ spamd: spamd.spec, maxSize: 100_000 }, big);
    expect(r.eom).toEqual({ reply: { status: 'continue' }, changes: FORGED_REMOVED });
    expect(spamd.requests).toHaveLength(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ level: 30, maxSize: 100_000 });
    expect(r.lines[0]!.msg).toMatch(/over max_size \(100000\): passed unscanned/);
  });

  it('accepts clients in skip_networks at connect and authenticated clients at MAIL', async () => {
    const spamd = await serve((s) => s.end('SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.0 / 5.0\r\n\r\n'));
    const { logger } = captureLogger();
    const filter = createSpamAssassinFilter('sa', spamOptions({ spamd: spamd.spec, skipNetworks: ['192.0.2.0/24', '2001:db8::/32'] }), testContext(logger));
    expect((await drive(filter, MESSAGE)).connect.status).toBe('accept');
    expect((await drive(filter, MESSAGE, { client: { hostname: 'x', family: 'inet6', address: '::ffff:192.0.2.7', port: 1 } })).connect.status).toBe('accept');
    expect((await drive(filter, MESSAGE, { client: { hostname: 'x', family: 'inet6', address: '2001:db8::1', port: 1 } })).connect.status).toBe('accept');
    const other = { hostname: 'x', family: 'inet' as const, address: '198.51.100.1', port: 1 };
    const authed = await drive(filter, MESSAGE, { client: other, mailMacros: [['{auth_authen}', 'alice']] });
    expect(authed.mail.status).toBe('accept');
    expect(authed.eom).toBeUndefined();
    expect(spamd.requests).toHaveLength(0);
    const plain = await drive(filter, MESSAGE, { client: other });
    expect(plain.eom?.reply.status).toBe('continue');
    expect(spamd.requests).toHaveLength(1);
  });

  it('scans authenticated clients when skip_authenticated = false', async () => {
    const spamd = await serve((s) => s.end('SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\nSpam: False ; 0.0 / 5.0\r\n\r\n'));
    const { logger } = captureLogger();
    const filter = createSpamAssassinFilter('sa', spamOptions({ spamd: spamd.spec, skipAuthenticated: false, modifyMessage: false }), testContext(logger));
    const r = await drive(filter, MESSAGE, { mailMacros: [['{auth_authen}', 'alice']] });
    expect(r.eom?.reply.status).toBe('continue');
    expect(spamd.requests).toHaveLength(1);
  });
});

describe('spamdCall', () => {
  it('talks over a unix socket too', async () => {
    const { createServer } = await import('node:net');
    const dir = mkdtempSync(join(tmpdir(), 'spamd-unix-'));
    const path = join(dir, 'spamd.sock');
    const server = createServer({ allowHalfOpen: true }, (s) => {
      s.resume();
      s.on('end', () => s.end('SPAMD/1.5 0 PONG\r\n'));
    });
    await new Promise<void>((res) => server.listen(path, res));
    try {
      const r = await spamdCall({ address: { path }, connectTimeoutMs: 500, timeoutMs: 1000 }, 'PING', Buffer.alloc(0));
      expect(r.message).toBe('PONG');
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops reading once Content-length is satisfied, even if spamd keeps the connection open', async () => {
    const spamd = await serve((s) => s.write('SPAMD/1.1 0 EX_OK\r\nContent-length: 2\r\nSpam: True ; 9.0 / 5.0\r\n\r\nok'));
    // Waiting for the close would end in the 2 s timeout's SpamdError, not in this answer.
    const r = await spamdCall({ address: { host: '127.0.0.1', port: spamd.port }, connectTimeoutMs: 500, timeoutMs: 2000 }, 'PROCESS', Buffer.from('a: b\r\n\r\n'));
    expect(r.body.toString()).toBe('ok');
  });

  it('rejects with a SpamdError and nothing else', async () => {
    const err = await spamdCall({ address: { host: '127.0.0.1', port: await closedPort() }, connectTimeoutMs: 500, timeoutMs: 1000 }, 'CHECK', Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpamdError);
    expect((err as SpamdError).failure).toBe('unreachable');
  });
});

describe('property: whatever a fake spamd answers, the session ends in a verdict', () => {
  it('random answers give continue (or a spamd-produced verdict), never an exception, at most one warning', async () => {
    const fc = (await import('fast-check')).default;
    let answer = Buffer.alloc(0);
    const spamd = await serve((s) => s.end(answer));
    const prefix = fc.constantFrom('', 'SPAMD/1.1 0 EX_OK\r\n', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\n', 'SPAMD/1.1 0 EX_OK\r\nSpam: True ; 20.0 / 5.0\r\n\r\n');
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 200 }), async (p, tail) => {
        answer = Buffer.concat([Buffer.from(p, 'latin1'), Buffer.from(tail)]);
        const r = await run({ spamd: spamd.spec, rejectScore: 15 });
        expect(['continue', 'reject']).toContain(r.eom?.reply.status);
        expect(r.lines.filter((l) => l.level >= 40).length).toBeLessThanOrEqual(1);
        if (r.eom?.reply.status === 'continue' && r.lines.length === 1) expect(r.eom.changes).toEqual(FORGED_REMOVED);
      }),
      { numRuns: 150 },
    );
  });
});
