// The rspamd filter against a FAKE rspamd on loopback: what it sends, every action and milter
// block case, and every way the server can misbehave (→ on_fail within the timeout, one log line).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RspamdOptions } from '../../../src/config/builtins/rspamd.js';
import { postCheckV2, RspamdTransportError } from '../../../src/filters/rspamd/client.js';
import { createRspamdFilter } from '../../../src/filters/rspamd/index.js';
import { CLIENT, FakeRspamd, filterContext, options, recordingLogger, runMessage, type MessageRun } from './helpers.js';
import { hangGuard } from '../../hang-guard.js';

let fake: FakeRspamd;
beforeAll(async () => {
  fake = await FakeRspamd.start();
});
afterAll(async () => {
  await fake.stop();
});
afterEach(() => {
  fake.requests.length = 0;
  fake.behaviour = { json: { action: 'no action', score: 0, required_score: 15, symbols: {} } };
});

function filterWith(overrides: Partial<RspamdOptions> = {}) {
  const log = recordingLogger();
  const filter = createRspamdFilter('rspamd', options({ url: fake.url, ...overrides }), filterContext(log.logger));
  return { filter, lines: log.lines };
}

async function answer(json: unknown, run: MessageRun = {}, overrides: Partial<RspamdOptions> = {}) {
  fake.behaviour = { json };
  const { filter, lines } = filterWith(overrides);
  const result = await runMessage(filter, run);
  return { ...result, lines, eom: result.eom! };
}

describe('what the filter sends to /checkv2', () => {
  it('POSTs the message with the envelope as headers', async () => {
    await answer({ action: 'no action' }, {
      recipients: ['<bob@example.org>', '<carol@example.org>'],
      macros: { connect: [['{daemon_name}', 'mx.example.org']], mail: [['{auth_authen}', 'alice']], eom: [['i', '4Xyz12']] },
    });
    const req = fake.last;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/checkv2');
    expect(req.headers).toMatchObject({
      ip: '192.0.2.10',
      hostname: 'mail.example.net',
      helo: 'mail.example.net',
      from: '<alice@example.net>',
      'queue-id': '4Xyz12',
      user: 'alice',
      'mta-name': 'mx.example.org',
    });
    expect(FakeRspamd.values(req, 'Rcpt')).toEqual(['<bob@example.org>', '<carol@example.org>']);
    expect(req.headers['pass']).toBeUndefined();
    expect(req.headers['password']).toBeUndefined();
    expect(req.body.toString()).toBe('From: alice@example.net\r\nTo: bob@example.org\r\nSubject: hello\r\n\r\nHi Bob,\r\nlunch tomorrow?\r\n');
    expect(Number(req.headers['content-length'])).toBe(req.body.length);
  });

  it('sends Password and Pass: all when configured', async () => {
    await answer({ action: 'no action' }, {}, { password: 's3cret', passAll: true });
    expect(fake.last.headers).toMatchObject({ password: 's3cret', pass: 'all' });
  });

  it('a second message on the same connection starts a fresh envelope', async () => {
    fake.behaviour = { json: { action: 'no action' } };
    const { filter } = filterWith();
    const s = await filter.open();
    const { context } = await import('../../milter/helpers.js');
    const ctx = context();
    await s.connect?.(CLIENT, ctx);
    await s.mail?.('<one@example.net>', [], ctx);
    await s.rcpt?.('<r1@example.org>', [], ctx);
    await s.abort?.(ctx);
    await s.mail?.('<two@example.net>', [], ctx);
    await s.rcpt?.('<r2@example.org>', [], ctx);
    await s.header?.('Subject', 'two', ctx);
    await s.endOfMessage!(ctx);
    expect(fake.last.headers.from).toBe('<two@example.net>');
    expect(FakeRspamd.values(fake.last, 'Rcpt')).toEqual(['<r2@example.org>']);
    expect(fake.last.body.toString()).toBe('Subject: two\r\n\r\n');
  });
});

describe('actions', () => {
  it('reject → 554 5.7.1 with rspamd\'s message', async () => {
    const { eom, lines } = await answer({ action: 'reject', score: 20, required_score: 15, messages: { smtp_message: 'Gtube pattern' } });
    expect(eom).toEqual({ reply: { status: 'reject', code: 554, enhancedCode: '5.7.1', text: 'Gtube pattern' }, changes: [] });
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(1);
    expect(lines[0]!.msg).toContain('reject (20.00 / 15.00)');
  });

  it('reject without a message → "Spam message rejected"', async () => {
    expect((await answer({ action: 'reject' })).eom.reply.text).toBe('Spam message rejected');
  });

  it('soft reject → 451 4.7.1 Try again later', async () => {
    expect((await answer({ action: 'soft reject' })).eom.reply).toEqual({ status: 'tempfail', code: 451, enhancedCode: '4.7.1', text: 'Try again later' });
  });

  it('greylist → accept, or 451 4.7.1 with greylist_action = "tempfail"', async () => {
    expect((await answer({ action: 'greylist' })).eom.reply.status).toBe('accept');
    expect((await answer({ action: 'greylist' }, {}, { greylistAction: 'tempfail' })).eom.reply).toMatchObject({ status: 'tempfail', code: 451, enhancedCode: '4.7.1' });
  });

  it('add header → X-Spam: Yes, forged ones removed', async () => {
    const { eom } = await answer({ action: 'add header' }, { headers: [['Subject', 'hi'], ['X-Spam', 'No']] });
    expect(eom.reply.status).toBe('accept');
    expect(eom.changes).toEqual([
      { kind: 'deleteHeader', name: 'X-Spam', index: 1 },
      { kind: 'addHeader', name: 'X-Spam', value: 'Yes' },
    ]);
  });

  it('rewrite subject → the subject rspamd computed', async () => {
    const { eom } = await answer({ action: 'rewrite subject', subject: '***SPAM*** hello' });
    expect(eom.changes).toEqual([{ kind: 'changeHeader', name: 'Subject', index: 1, value: '***SPAM*** hello' }]);
  });

  it('rewrite subject without one in the answer → the configured pattern', async () => {
    const { eom } = await answer({ action: 'rewrite subject' }, {}, { rewriteSubject: '[spam] %s' });
    expect(eom.changes).toEqual([{ kind: 'changeHeader', name: 'Subject', index: 1, value: '[spam] hello' }]);
  });

  it('a clean message (no action) logs at debug only: the statistics line is the one info line per session', async () => {
    const { lines } = await answer({ action: 'no action', score: 1, required_score: 15 });
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(0);
    expect(lines.filter((l) => l.level === 'debug').some((l) => l.msg.includes('no action'))).toBe(true);
  });

  it('no action → accept with the milter block\'s changes', async () => {
    const { eom } = await answer(
      {
        action: 'no action',
        milter: {
          remove_headers: { 'X-Spamd-Result': 0 },
          add_headers: { 'X-Spamd-Result': { value: 'default: False [0.00 / 15.00]', order: -1 }, 'X-Rspamd-Server': 'scanner' },
          change_from: '<bounce@example.org>',
          add_rcpt: ['<archive@example.org>'],
          del_rcpt: ['<bob@example.org>'],
        },
      },
      { headers: [['Subject', 'hello'], ['X-Spamd-Result', 'forged']] },
    );
    expect(eom.reply.status).toBe('accept');
    expect(eom.changes).toEqual([
      { kind: 'deleteHeader', name: 'X-Spamd-Result', index: 1 },
      { kind: 'insertHeader', name: 'X-Spamd-Result', value: 'default: False [0.00 / 15.00]', index: 1 },
      { kind: 'addHeader', name: 'X-Rspamd-Server', value: 'scanner' },
      { kind: 'changeSender', sender: '<bounce@example.org>' },
      { kind: 'addRecipient', recipient: '<archive@example.org>' },
      { kind: 'deleteRecipient', recipient: '<bob@example.org>' },
    ]);
  });

  it('score_header and result_header', async () => {
    const { eom } = await answer(
      { action: 'no action', score: 1.5, required_score: 15, symbols: { R_X: { name: 'R_X', score: 1.5, options: ['a'] } } },
      {},
      { scoreHeader: 'X-Spam-Score', resultHeader: 'X-Spamd-Result' },
    );
    expect(eom.changes).toEqual([
      { kind: 'addHeader', name: 'X-Spam-Score', value: '1.50 / 15.00' },
      { kind: 'addHeader', name: 'X-Spamd-Result', value: 'default: False [1.50 / 15.00];\n\tR_X(1.50)[a]' },
    ]);
  });
});

describe('skips', () => {
  it('messages over max_size pass unscanned, one log line, no request', async () => {
    const { filter, lines } = filterWith({ maxSize: 1000 });
    const r = await runMessage(filter, { body: 'x'.repeat(2000) });
    expect(r.replies['body']?.status).toBe('accept');
    expect(fake.requests).toHaveLength(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toContain('larger than max_size');
  });

  it('skip_authenticated: a sender with {auth_authen} is not scanned', async () => {
    const { filter } = filterWith({ skipAuthenticated: true });
    const r = await runMessage(filter, { macros: { mail: [['{auth_authen}', 'alice']] } });
    expect(r.replies['mail']?.status).toBe('accept');
    expect(fake.requests).toHaveLength(0);
    // Unauthenticated mail still is.
    await runMessage(filter);
    expect(fake.requests).toHaveLength(1);
  });

  it('skip_networks: listed clients are not scanned (IPv4, IPv6, mapped IPv4)', async () => {
    const { filter } = filterWith({ skipNetworks: ['192.0.2.0/24', '2001:db8::/32'] });
    for (const address of ['192.0.2.99', '2001:db8::5', '::ffff:192.0.2.7']) {
      const r = await runMessage(filter, { connect: { ...CLIENT, address, family: address.includes(':') ? 'inet6' : 'inet' } });
      expect(r.replies['connect']?.status).toBe('accept');
    }
    expect(fake.requests).toHaveLength(0);
    await runMessage(filter, { connect: { ...CLIENT, address: '198.51.100.1' } });
    expect(fake.requests).toHaveLength(1);
  });
});

describe('a misbehaving or missing rspamd → on_fail within the timeout, one log line', () => {
  const cases: [string, FakeRspamd['behaviour'] | 'down'][] = [
    ['garbage', { raw: 'this is not json at all' }],
    ['a JSON array', { raw: '[]' }],
    ['no action', { json: { score: 3 } }],
    ['HTTP 500 with an error', { json: { error: 'Message has no body' }, status: 500 }],
    ['a silent server (slow)', { handle: () => undefined }],
    ['a server that closes at once', { handle: (_req, _res, socket) => socket.destroy() }],
    [
      'a server that closes mid-answer',
      {
        handle: (_req, res, socket) => {
          res.writeHead(200, { 'Content-Length': 1000 });
          res.write('{"action":');
          setTimeout(() => socket.destroy(), 20);
        },
      },
    ],
    ['nothing listening', 'down'],
  ];

  for (const onFail of ['accept', 'tempfail'] as const) {
    it.each(cases)(`%s → ${onFail}`, async (_what, behaviour) => {
      let url = fake.url;
      if (behaviour === 'down') {
        const gone = await FakeRspamd.start();
        url = gone.url;
        await gone.stop();
      } else fake.behaviour = behaviour;
      const { filter, lines } = filterWith({ url, onFail, timeoutSeconds: 0.4 });
      const noHang = hangGuard(400);
      const { eom } = await runMessage(filter);
      noHang();
      expect(eom?.reply).toEqual(onFail === 'accept' ? { status: 'accept' } : { status: 'tempfail', code: 451, enhancedCode: '4.7.1', text: 'Try again later' });
      expect(eom?.changes).toEqual([]);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.level).toBe('warn');
      expect(lines[0]!.msg).toMatch(/^rspamd: (cannot check the message|unusable answer) \(.+\); on_fail = /);
    });
  }

  it('an answer larger than the cap is refused (client)', async () => {
    fake.behaviour = { raw: `{"action":"no action","x":"${'a'.repeat(5000)}"}` };
    await expect(postCheckV2({ url: fake.url }, {}, Buffer.from('x'), { timeoutMs: 1000, maxReplyBytes: 1000 })).rejects.toMatchObject({ reason: 'too-large' });
    await expect(postCheckV2({ url: fake.url }, {}, Buffer.from('x'), { timeoutMs: 1000, maxReplyBytes: 1000 })).rejects.toBeInstanceOf(RspamdTransportError);
  });
});

describe('unix socket', () => {
  it('talks to rspamd over `socket`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-rspamd-'));
    const path = join(dir, 'rspamd.sock');
    const onSocket = await FakeRspamd.start({ socket: path });
    try {
      onSocket.behaviour = { json: { action: 'reject' } };
      const log = recordingLogger();
      const filter = createRspamdFilter('rspamd', options({ url: 'http://127.0.0.1:1', socket: path }), filterContext(log.logger));
      const { eom } = await runMessage(filter);
      expect(eom?.reply.status).toBe('reject');
      expect(onSocket.last.url).toBe('/checkv2');
    } finally {
      await onSocket.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
