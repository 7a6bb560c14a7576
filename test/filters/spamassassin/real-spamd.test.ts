// The spamassassin filter against REAL private spamd instances (spamd -L, offline, loopback / unix
// socket), directly and through the chain built from a mailgate.toml. A missing spamd FAILS these
// tests (setupGuard), it never skips them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Change } from '../../../src/mail/changes.js';
import { HeaderList } from '../../../src/mail/header-list.js';
import type { Filter } from '../../../src/mail/filter.js';
import { createSpamAssassinFilter } from '../../../src/filters/spamassassin/index.js';
import type { SpamAssassinOptions } from '../../../src/config/builtins/spamassassin.js';
import { setupGuard } from '../../interop/harness/setup-guard.js';
import { GTUBE, startSpamd, type Spamd } from '../../interop/harness/spamd.js';
import { Teardown } from '../../interop/harness/teardown.js';
import { captureLogger, drive, spamOptions, testContext, type Message } from './helpers.js';

const LIMITS = { timeout: 120_000 };

function message(subject: string, body: string, extra: [string, string][] = []): Message {
  return {
    headers: [
      ['Received', 'from client.example.net (client.example.net [192.0.2.10])\n\tby mx.example.org (Postfix) with ESMTP id 4ABCD1234;\n\tMon, 24 Nov 2025 10:00:00 +0000'],
      ['From', 'Sender <sender@example.net>'],
      ['To', 'Recipient <rcpt@example.org>'],
      ['Subject', subject],
      ['Date', 'Mon, 24 Nov 2025 10:00:00 +0000'],
      ['Message-ID', `<${Math.random().toString(36).slice(2)}.test@example.net>`],
      ['MIME-Version', '1.0'],
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
      ...extra,
    ],
    body,
  };
}

const HAM = (): Message => message('lunch tomorrow', 'Hello Bob,\r\n\r\nsee you at lunch tomorrow at noon.\r\n\r\nAlice\r\n');
const SPAM = (extra: [string, string][] = []): Message => message('test', `This is the GTUBE test.\r\n\r\n${GTUBE}\r\n`, extra);
const FORGED: [string, string][] = [
  ['X-Spam-Flag', 'NO'],
  ['X-Spam-Status', 'No, score=-100.0 required=5.0'],
  ['X-Spam-Status', 'No, score=-99.0'],
];

/** The message's headers after the changes, as the MTA would apply them. */
function applied(m: Message, changes: readonly Change[]): HeaderList {
  const list = new HeaderList(m.headers.map(([name, value]) => ({ name, value })));
  list.apply(changes);
  return list;
}

function values(list: HeaderList, name: string): string[] {
  return list.all.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value);
}

describe('spamassassin filter against a real spamd', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  /** report_safe 1 (SpamAssassin's default: spam is wrapped) and a Subject tag; TCP. */
  let wrapping: Spamd;
  /** report_safe 0 (headers only, X-Spam-Report added); also on a unix socket. */
  let marking: Spamd;
  beforeAll(() =>
    setup.run(async () => {
      [wrapping, marking] = await Promise.all([
        startSpamd({ maxChildren: 1, localCf: ['rewrite_header Subject *****SPAM*****'] }).then((s) => td.add(s)),
        startSpamd({ maxChildren: 1, unixSocket: true, localCf: ['report_safe 0', 'rewrite_header Subject [SPAM]'] }).then((s) => td.add(s)),
      ]);
    }),
  );
  afterAll(() => td.run());

  const filterFor = (spamd: Spamd, overrides: Partial<SpamAssassinOptions> = {}) => {
    const log = captureLogger();
    const filter = createSpamAssassinFilter('spamassassin', spamOptions({ spamd: `inet:${spamd.port}@127.0.0.1`, timeout: 60, ...overrides }), testContext(log.logger));
    return { filter, lines: log.lines };
  };
  const spamdLog = (s: Spamd): string => s.daemon.output().slice(-3000);

  it('refuses GTUBE with 550 5.7.1 Blocked by SpamAssassin at reject_score 15', async () => {
    setup.check();
    const { filter, lines } = filterFor(marking, { rejectScore: 15 });
    const r = await drive(filter, SPAM());
    expect(r.eom, spamdLog(marking)).toEqual({
      reply: { status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'Blocked by SpamAssassin' },
      changes: [],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/^spam refused: score 10\d\d(\.\d)? \(reject_score 15\)$/);
  });

  it('refuses with the configured code, enhanced code and text; a 4xx code tempfails', async () => {
    setup.check();
    const r = await drive(filterFor(marking, { rejectScore: 15, rejectCode: 554, rejectEcode: '5.7.0', rejectText: 'Go away' }).filter, SPAM());
    expect(r.eom?.reply).toEqual({ status: 'reject', code: 554, enhancedCode: '5.7.0', text: 'Go away' });
    const t = await drive(filterFor(marking, { rejectScore: -1, rejectCode: 451, rejectEcode: '4.7.1', rejectText: 'Later' }).filter, SPAM());
    expect(t.eom?.reply).toEqual({ status: 'tempfail', code: 451, enhancedCode: '4.7.1', text: 'Later' });
  });

  it('marks GTUBE with X-Spam-Flag: YES without reject_score, replacing forged X-Spam-* (modify_message = false: HEADERS)', async () => {
    setup.check();
    const m = SPAM(FORGED);
    const r = await drive(filterFor(wrapping, { modifyMessage: false }).filter, m);
    expect(r.eom?.reply.status).toBe('continue');
    const changes = r.eom!.changes;
    expect(changes.filter((c) => c.kind === 'replaceBody')).toEqual([]);
    const after = applied(m, changes);
    expect(values(after, 'X-Spam-Flag')).toEqual(['YES']);
    expect(values(after, 'X-Spam-Status')).toHaveLength(1);
    expect(values(after, 'X-Spam-Status')[0]).toMatch(/^Yes, score=10\d\d\.\d required=5\.0 tests=.*GTUBE/s);
    expect(values(after, 'X-Spam-Level')[0]).toMatch(/^\*{50}$/);
    expect(values(after, 'X-Spam-Checker-Version')[0]).toMatch(/^SpamAssassin 4\./);
    // -m: Subject and MIME fields untouched although SpamAssassin wrapped and tagged the message.
    expect(values(after, 'Subject')).toEqual(['test']);
    expect(values(after, 'Content-Type')).toEqual(['text/plain; charset=us-ascii']);
    // The forged values never reached spamd: its Status is its own, not the forged one's.
    expect(changes.filter((c) => c.kind === 'changeHeader' && c.value === '')).toHaveLength(3);
  });

  it('marks ham with X-Spam-Status: No and removes a forged X-Spam-Flag', async () => {
    setup.check();
    const m = { ...HAM(), headers: [...HAM().headers, ['X-Spam-Flag', 'YES'] as [string, string]] };
    const { filter, lines } = filterFor(wrapping);
    const r = await drive(filter, m);
    expect(r.eom?.reply.status).toBe('continue');
    const after = applied(m, r.eom!.changes);
    expect(values(after, 'X-Spam-Flag')).toEqual([]);
    expect(values(after, 'X-Spam-Status')[0]).toMatch(/^No, score=-?\d+\.\d required=5\.0/);
    expect(values(after, 'Subject')).toEqual(['lunch tomorrow']);
    // Ham is not rewritten even when modify_message is on.
    expect(r.eom!.changes.filter((c) => c.kind === 'replaceBody' || (c.kind === 'changeHeader' && c.name === 'Subject'))).toEqual([]);
    expect(lines.filter((l) => l.level >= 30)).toEqual([]);
  });

  it('modify_message = true (no -m): applies the tagged Subject, the MIME wrapper fields and the wrapped body (report_safe 1)', async () => {
    setup.check();
    const m = SPAM(FORGED);
    const r = await drive(filterFor(wrapping).filter, m);
    const changes = r.eom!.changes;
    const after = applied(m, changes);
    expect(values(after, 'Subject')).toEqual(['*****SPAM***** test']);
    expect(values(after, 'Content-Type')[0]).toMatch(/^multipart\/mixed; boundary="/);
    expect(values(after, 'Content-Transfer-Encoding')).toEqual([]);
    expect(values(after, 'MIME-Version')).toEqual(['1.0']);
    expect(values(after, 'X-Spam-Flag')).toEqual(['YES']);
    const bodies = changes.filter((c) => c.kind === 'replaceBody');
    expect(bodies).toHaveLength(1);
    const body = bodies[0]!.kind === 'replaceBody' ? bodies[0]!.body.toString() : '';
    const boundary = /boundary="([^"]+)"/.exec(values(after, 'Content-Type')[0]!)![1]!;
    expect(body).toContain(`--${boundary}\r\nContent-Type: message/rfc822; x-spam-type=original`);
    expect(body).toContain(GTUBE);
    // The original inside the wrapper is what spamd was given: no forged X-Spam-* field.
    expect(body).not.toContain('score=-100.0');
  });

  it('report_safe 0 over a unix socket: X-Spam-Report is copied, the Subject tagged, the body left alone', async () => {
    setup.check();
    const m = SPAM();
    const r = await drive(filterFor(marking, { spamd: `unix:${marking.socketPath!}` }).filter, m);
    const after = applied(m, r.eom!.changes);
    expect(values(after, 'Subject')).toEqual(['[SPAM] test']);
    expect(values(after, 'X-Spam-Report')[0]).toMatch(/GTUBE/);
    // Folded with LF alone, as milter header values are.
    expect(values(after, 'X-Spam-Report')[0]).toContain('\n\t');
    expect(values(after, 'X-Spam-Report')[0]).not.toContain('\r');
    expect(r.eom!.changes.filter((c) => c.kind === 'replaceBody')).toEqual([]);
    expect(values(after, 'Content-Type')).toEqual(['text/plain; charset=us-ascii']);
  });

  it('sends User: (spamass-milter -u) — spamd scans for that user', async () => {
    setup.check();
    const r = await drive(filterFor(marking, { user: 'mailgate-test-user', modifyMessage: false }).filter, HAM());
    expect(r.eom?.reply.status).toBe('continue');
    expect(marking.daemon.output()).toMatch(/for mailgate-test-user:\d+/);
  });

  describe('through the chain built from mailgate.toml', () => {
    let chain: ReturnType<typeof chainFromConfig> | undefined;
    afterAll(async () => {
      await chain?.dispose();
    });
    const chainFor = (extra: string): Filter => {
      const toml = `[[milter]]
name = "spamassassin"
builtin = "spamassassin"
spamd = "inet:${marking.port}@127.0.0.1"
timeout = 60
${extra}
`;
      const { config } = parseConfig(toml, 'mailgate.toml');
      chain = chainFromConfig(config, captureLogger().logger);
      return chain;
    };

    it('refuses GTUBE at reject_score = 15 and marks ham, driven through the Filter interface', async () => {
      setup.check();
      const c = chainFor('reject_score = 15\nmodify_message = false');
      const spam = await drive(c, SPAM());
      expect(spam.eom?.reply).toMatchObject({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'Blocked by SpamAssassin' });
      const m = { ...HAM(), headers: [...HAM().headers, ['X-Spam-Flag', 'YES'] as [string, string]] };
      const ham = await drive(c, m);
      expect(ham.eom?.reply.status).toBe('continue');
      const after = applied(m, ham.eom!.changes);
      expect(values(after, 'X-Spam-Flag')).toEqual([]);
      expect(values(after, 'X-Spam-Status')[0]).toMatch(/^ ?No, score=/);
    });

    it('skips authenticated clients (the {auth_authen} macro) through the chain', async () => {
      setup.check();
      const c = chainFor('reject_score = 15');
      const m = SPAM();
      const r = await drive(c, m, { mailMacros: [['{auth_authen}', 'alice']] });
      expect(r.mail.status).toBe('accept');
      expect(r.eom).toBeUndefined();
      const id = m.headers.find(([n]) => n === 'Message-ID')![1];
      expect(marking.daemon.output()).not.toContain(id);
    });
  });
});
