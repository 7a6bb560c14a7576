// racl/dacl semantics: every clause, first match wins, continue, not, lists, blacklist, per-ACL
// overrides, global bypasses, and the issue's sample configuration with the Trust macro.
import { describe, expect, test } from 'vitest';
import { deliver, MINUTE, SAMPLE_CONF, setup, smtp } from './harness.js';

const base = { client: '192.0.2.10', from: 'alice@example.com', to: 'bob@example.org' };
const GREY = '451 4.7.1 Greylisting in action, please come back in 00:30:00';

/** Status of the first recipient under `conf` for `delivery` (default greylist delay 30m). */
async function rcptStatus(conf: string, delivery: Partial<Parameters<typeof deliver>[1]> = {}, spf = {}): Promise<string> {
  const { filter } = setup(conf, spf);
  const out = await deliver(filter, { ...base, ...delivery });
  return out.rcpt[0]?.status ?? '?';
}

describe('racl clauses', () => {
  const wl = (clause: string): string => `racl whitelist ${clause}\nracl greylist default\n`;
  test.each([
    ['addr 192.0.2.0/24', {}, 'continue'],
    ['addr 192.0.2.10', {}, 'continue'],
    ['addr 198.51.100.0/24', {}, 'tempfail'],
    ['addr 2001:db8::/32', { client: '2001:db8::1' }, 'continue'],
    ['addr { 198.51.100.1 192.0.2.0/28 }', {}, 'continue'],
    ['domain example.net', { hostname: 'mx1.example.net' }, 'continue'],
    ['domain example.net', { hostname: 'mx1.example.com' }, 'tempfail'],
    ['domain /^mx[0-9]\\./', { hostname: 'mx1.example.com' }, 'continue'],
    ['from alice@example.com', {}, 'continue'],
    ['from "ALICE@example.COM"', {}, 'continue'],
    ['from alice@example.co', {}, 'tempfail'],
    ['from /@example\\.com$/', {}, 'continue'],
    ['rcpt bob@example.org', {}, 'continue'],
    ['rcpt /^postmaster@/', {}, 'tempfail'],
    ['helo mx.example.net', {}, 'continue'],
    ['helo /^unknown/', {}, 'tempfail'],
    ['auth /./', { macros: { '{auth_authen}': 'alice' } }, 'continue'],
    ['auth "alice"', { macros: { '{auth_authen}': 'bob' } }, 'tempfail'],
    ['tls /CN=relay/', { macros: { '{cert_subject}': '/CN=relay.example.com' } }, 'continue'],
    ['tls /CN=relay/', {}, 'tempfail'],
    ['rcptcount < 2', {}, 'continue'],
    ['rcptcount >= 2', {}, 'tempfail'],
    ['default', {}, 'continue'],
    ['not addr 198.51.100.0/24', {}, 'continue'],
    ['! addr 192.0.2.0/24', {}, 'tempfail'],
    ['no from alice@example.com', {}, 'tempfail'],
    ['from alice@example.com rcpt bob@example.org', {}, 'continue'],
    ['from alice@example.com rcpt carol@example.org', {}, 'tempfail'],
  ] as const)('%s (%j) → %s', async (clause, delivery, expected) => {
    expect(await rcptStatus(wl(clause), delivery)).toBe(expected);
  });

  test.each([
    ['pass', 'pass', 'continue'],
    ['pass', 'fail', 'tempfail'],
    ['fail', 'fail', 'continue'],
    ['softfail', 'softfail', 'continue'],
    ['neutral', 'neutral', 'continue'],
    ['none', 'none', 'continue'],
    ['unknown', 'permerror', 'continue'],
    ['error', 'temperror', 'continue'],
    ['', 'pass', 'continue'],
  ] as const)('spf %s with result %s → %s', async (wanted, result, expected) => {
    expect(await rcptStatus(wl(`spf ${wanted}`), {}, { 'example.com': result })).toBe(expected);
  });

  test('sm_macro: exact value, regex, unset', async () => {
    const def = (v: string): string => `sm_macro "m" "{x}" ${v}\nracl whitelist sm_macro "m"\nracl greylist default\n`;
    expect(await rcptStatus(def('"yes"'), { macros: { '{x}': 'yes' } })).toBe('continue');
    expect(await rcptStatus(def('"yes"'), { macros: { '{x}': 'YES' } })).toBe('tempfail');
    expect(await rcptStatus(def('"yes"'))).toBe('tempfail');
    expect(await rcptStatus(def('/^y/'), { macros: { '{x}': 'yep' } })).toBe('continue');
    expect(await rcptStatus(def('unset'))).toBe('continue');
    expect(await rcptStatus(def('unset'), { macros: { x: 'set' } })).toBe('tempfail');
  });

  test('named lists of every type', async () => {
    const lst = (type: string, items: string): string =>
      `list "l" ${type} { ${items} }\nracl whitelist list "l"\nracl greylist default\n`;
    expect(await rcptStatus(lst('addr', '198.51.100.0/24 192.0.2.0/24'))).toBe('continue');
    expect(await rcptStatus(lst('from', 'x@y.test /@example\\.com$/'))).toBe('continue');
    expect(await rcptStatus(lst('rcpt', '"bob@example.org"'))).toBe('continue');
    expect(await rcptStatus(lst('domain', 'example.net'), { hostname: 'a.example.net' })).toBe('continue');
    expect(await rcptStatus(lst('helo', '"mx.example.net"'))).toBe('continue');
    expect(await rcptStatus(lst('addr', '198.51.100.0/24'))).toBe('tempfail');
  });

  test('large lists (looked up, not walked) match as small ones do: domain suffixes, exact domains, addresses, helo', async () => {
    const many = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join(' ');
    const lst = (type: string, items: string, flags = ''): string => `${flags}list "l" ${type} { ${items} }\nracl whitelist list "l"\nracl greylist default\n`;
    const domains = many(2000, (i) => `d${i}.example`);
    expect(await rcptStatus(lst('domain', domains), { hostname: 'mx.d1999.example' })).toBe('continue');
    expect(await rcptStatus(lst('domain', domains), { hostname: 'MX.D7.EXAMPLE' })).toBe('continue');
    // "ends with" as milter-greylist's domaincmp: no label boundary needed.
    expect(await rcptStatus(lst('domain', domains), { hostname: 'xd5.example' })).toBe('continue');
    expect(await rcptStatus(lst('domain', domains), { hostname: 'd5.example.net' })).toBe('tempfail');
    expect(await rcptStatus(lst('domain', domains, 'domainexact\n'), { hostname: 'mx.d5.example' })).toBe('tempfail');
    expect(await rcptStatus(lst('domain', domains, 'domainexact\n'), { hostname: 'd5.example' })).toBe('continue');
    expect(await rcptStatus(lst('from', `${many(5000, (i) => `u${i}@x.test`)} <ALICE@example.com>`))).toBe('continue');
    expect(await rcptStatus(lst('from', many(5000, (i) => `u${i}@x.test`)))).toBe('tempfail');
    expect(await rcptStatus(lst('helo', `${many(3000, (i) => `h${i}.test`)} MX.example.net`), { helo: 'mx.example.net' })).toBe('continue');
  });

  test('a multi-line list', async () => {
    const conf = `list "friends" from {\n  a@x.test \\\n  alice@example.com\n  /@friend\\.test$/\n}\nracl whitelist list "friends"\nracl greylist default\n`;
    expect(await rcptStatus(conf)).toBe('continue');
  });

  test('first match wins', async () => {
    expect(await rcptStatus('racl greylist addr 192.0.2.0/24\nracl whitelist default\n')).toBe('tempfail');
    expect(await rcptStatus('racl whitelist addr 192.0.2.0/24\nracl greylist default\n')).toBe('continue');
  });

  test('no racl matches: greylist with the default 30 minutes', async () => {
    const out = await deliver(setup('racl whitelist addr 198.51.100.1\n').filter, base);
    expect(smtp(out.rcpt[0])).toBe(GREY);
  });

  test('continue: its settings apply, evaluation goes on', async () => {
    const { filter } = setup('racl continue from alice@example.com delay 2m\nracl greylist default\n');
    expect(smtp((await deliver(filter, base)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:02:00');
  });
});

describe('replies', () => {
  test('blacklist: 551 5.7.1 Go away!', async () => {
    const { filter } = setup('racl blacklist from /spammer/\nracl greylist default\n');
    const out = await deliver(filter, { ...base, from: 'spammer@bad.test' });
    expect(smtp(out.rcpt[0])).toBe('551 5.7.1 Go away!');
    expect(out.rcpt[0]?.status).toBe('reject');
  });

  test('per-ACL delay, code, ecode, msg with format tokens', async () => {
    const { filter, clock } = setup(
      'racl greylist rcpt bob@example.org delay 15m code "452" ecode "4.2.0" msg "Try %r again in %R from %i"\nracl greylist default\n',
    );
    const out = await deliver(filter, base);
    expect(smtp(out.rcpt[0])).toBe('452 4.2.0 Try <bob@example.org> again in 00:15:00 from 192.0.2.10');
    clock.advance(14 * MINUTE);
    expect((await deliver(filter, base)).rcpt[0]?.status).toBe('tempfail');
    clock.advance(2 * MINUTE);
    expect((await deliver(filter, base)).rcpt[0]?.status).toBe('continue');
  });

  test('blacklist with its own code and message', async () => {
    const { filter } = setup('racl blacklist addr 192.0.2.0/24 code "554" ecode "5.7.1" msg "You are listed"\n');
    expect(smtp((await deliver(filter, base)).rcpt[0])).toBe('554 5.7.1 You are listed');
  });

  test('a blacklist with a 4xx code is a temporary failure', async () => {
    const { filter } = setup('racl blacklist default code "421" ecode "4.7.0"\n');
    expect((await deliver(filter, base)).rcpt[0]?.status).toBe('tempfail');
  });

  test('per-ACL autowhite', async () => {
    const { filter, clock } = setup('greylist 10m\nracl greylist default autowhite 1h\n');
    await deliver(filter, base);
    clock.advance(11 * MINUTE);
    await deliver(filter, base);
    clock.advance(61 * MINUTE);
    expect((await deliver(filter, base)).rcpt[0]?.status).toBe('tempfail');
  });

  test('X-Greylist for whitelist ACLs names the reason', async () => {
    const run = async (conf: string, d = {}, spf = {}): Promise<string | undefined> =>
      (await deliver(setup(conf, spf).filter, { ...base, ...d })).header;
    expect(await run('racl whitelist addr 192.0.2.0/24\n')).toMatch(/^Sender IP whitelisted, not delayed by Mailgate greylist \(/);
    expect(await run('racl whitelist from alice@example.com\n')).toMatch(/^Sender e-mail whitelisted, not delayed by /);
    expect(await run('racl whitelist rcpt bob@example.org\n')).toMatch(/^Recipient e-mail whitelisted, not delayed by /);
    expect(await run('racl whitelist domain example.net\n', { hostname: 'mx.example.net' })).toMatch(/^Sender DNS name whitelisted, not delayed/);
    expect(await run('racl whitelist default\n')).toMatch(/^Default is to whitelist mail, not delayed by /);
    expect(await run('sm_macro "t" "{t}" "yes"\nracl whitelist sm_macro "t" spf pass\n', { macros: { '{t}': 'yes' } }, { 'example.com': 'pass' })).toMatch(
      /^Sender passed SPF test, ACL 2 matched, not delayed by /,
    );
    expect(await run('racl "friends" whitelist helo mx.example.net\n')).toMatch(/^ACL friends matched, not delayed by /);
    expect(await run('racl whitelist default report "Passed (%a) for %f"\n')).toBe('Passed (1) for <alice@example.com>');
    expect(await run('report none\nracl whitelist default\n')).toBeUndefined();
    expect(await run('report delays\nracl whitelist default\n')).toBeUndefined();
  });

  test('X-Greylist %V uses the MTA host name ({j}) and the clock', async () => {
    const { filter } = setup('racl whitelist default\n');
    const out = await deliver(filter, { ...base, macros: { j: 'mx.mailgate.test' } });
    expect(out.header).toBe('Default is to whitelist mail, not delayed by Mailgate greylist (mx.mailgate.test); Thu, 01 Jan 2026 12:00:00 +0000 (UTC)');
  });
});

describe('global bypasses (checked before any ACL)', () => {
  test('SMTP AUTH bypasses greylisting unless noauth or an auth clause exists', async () => {
    const auth = { macros: { '{auth_authen}': 'alice' } };
    const { filter } = setup('racl greylist default\n');
    const out = await deliver(filter, { ...base, ...auth });
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(out.header).toMatch(/^Sender succeeded SMTP AUTH, not delayed by /);
    expect(await rcptStatus('noauth\nracl greylist default\n', auth)).toBe('tempfail');
    expect(await rcptStatus('racl whitelist auth "nobody"\nracl greylist default\n', auth)).toBe('tempfail');
  });

  test('verified STARTTLS client certificate bypasses', async () => {
    const tls = { macros: { '{verify}': 'OK', '{cert_subject}': 'CN=client' } };
    expect(await rcptStatus('racl greylist default\n', tls)).toBe('continue');
    expect(await rcptStatus('racl greylist default\n', { macros: { '{verify}': 'FAIL', '{cert_subject}': 'CN=client' } })).toBe('tempfail');
  });

  test('SPF pass bypasses unless nospf or an spf clause exists', async () => {
    const spf = { 'example.com': 'pass' } as const;
    const { filter } = setup('racl greylist default\n', spf);
    const out = await deliver(filter, base);
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(out.header).toMatch(/^Sender passed SPF test, not delayed by /);
    expect(await rcptStatus('nospf\nracl greylist default\n', {}, spf)).toBe('tempfail');
    expect(await rcptStatus('racl greylist spf fail\nracl greylist default\n', {}, spf)).toBe('tempfail');
  });

  test('{greylist} macro WHITE/RELAY/OK unless noaccessdb', async () => {
    expect(await rcptStatus('racl greylist default\n', { macros: { '{greylist}': 'WHITE' } })).toBe('continue');
    expect(await rcptStatus('noaccessdb\nracl greylist default\n', { macros: { '{greylist}': 'WHITE' } })).toBe('tempfail');
  });

  test('without multiracl, a whitelisted recipient whitelists the rest of the transaction', async () => {
    const conf = 'racl whitelist rcpt postmaster@example.org\nracl greylist default\n';
    const one = await deliver(setup(conf).filter, { ...base, to: ['postmaster@example.org', 'bob@example.org'] });
    expect(one.rcpt.map((r) => r.status)).toEqual(['continue', 'continue']);
    const multi = await deliver(setup(`multiracl\n${conf}`).filter, { ...base, to: ['postmaster@example.org', 'bob@example.org'] });
    expect(multi.rcpt.map((r) => r.status)).toEqual(['continue', 'tempfail']);
  });

  test('delayedreject: the null sender is tempfailed at DATA (as milter-greylist), not at RCPT', async () => {
    const { filter } = setup('delayedreject\nracl greylist default\n');
    const out = await deliver(filter, { ...base, from: '' });
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(smtp(out.data)).toBe('451 4.7.1 Greylisting in action, please come back in 00:30:00');
  });
});

describe('dacl (end of DATA)', () => {
  const white = 'racl whitelist default\n';
  test('header, body, msgsize, rcptcount', async () => {
    const run = async (dacl: string, d = {}): Promise<string> => {
      const out = await deliver(setup(`${white}${dacl}\n`).filter, { ...base, ...d });
      return smtp(out.eom?.reply);
    };
    expect(await run('dacl blacklist header /^Subject: .*viagra/')).toBe('continue');
    expect(await run('dacl blacklist header /^Subject: .*viagra/', { headers: [['Subject', 'cheap VIAGRA']] })).toBe('551 5.7.1 Go away!');
    expect(await run('dacl blacklist header "x-mailer: spambot"', { headers: [['X-Mailer', 'SpamBot 2.0']] })).toBe('551 5.7.1 Go away!');
    expect(await run('dacl blacklist body /click here/', { body: 'hi\r\nplease CLICK HERE now\r\n' })).toBe('551 5.7.1 Go away!');
    expect(await run('dacl blacklist body "unsubscribe"', { body: 'hello\r\n' })).toBe('continue');
    expect(await run('dacl blacklist msgsize > 1k', { body: 'x'.repeat(2000) })).toBe('551 5.7.1 Go away!');
    expect(await run('dacl blacklist msgsize > 1k')).toBe('continue');
    expect(await run('dacl blacklist rcptcount > 1', { to: ['a@example.org', 'b@example.org'] })).toBe('551 5.7.1 Go away!');
    expect(await run('dacl blacklist rcptcount > 1')).toBe('continue');
  });

  test('dacl greylist checks every recipient tuple at end of message', async () => {
    const { filter, clock } = setup(`${white}dacl greylist body /lottery/ delay 5m\n`);
    const spammy = { ...base, body: 'you won the lottery\r\n' };
    const first = await deliver(filter, spammy);
    expect(first.rcpt[0]?.status).toBe('continue');
    expect(smtp(first.eom?.reply)).toBe('451 4.7.1 Greylisting in action, please come back in 00:05:00');
    clock.advance(6 * MINUTE);
    const retry = await deliver(filter, spammy);
    expect(retry.eom?.reply.status).toBe('continue');
    expect(retry.header).toMatch(/^Delayed for 00:06:00 by /);
  });

  test('dacl cannot greylist a message the racl already greylisted', async () => {
    const { filter, clock } = setup('greylist 10m\nracl greylist default\ndacl greylist default delay 1h\n');
    await deliver(filter, base);
    clock.advance(11 * MINUTE);
    const out = await deliver(filter, base);
    expect(out.eom?.reply.status).toBe('continue');
  });

  test('no dacl matches: whitelist', async () => {
    const out = await deliver(setup(`${white}dacl blacklist body /nothing-like-this/\n`).filter, base);
    expect(out.eom?.reply.status).toBe('continue');
  });
});

describe("the issue's sample configuration (with Trust's {trusted_domain})", () => {
  const trusted = { from: 'someone@gmail.com', macros: { '{trusted_domain}': 'yes' } };

  test('trusted domain with SPF pass: accepted at once', async () => {
    const { filter } = setup(SAMPLE_CONF, { 'gmail.com': 'pass' });
    const out = await deliver(filter, { ...base, ...trusted });
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(out.header).toMatch(/^Sender passed SPF test, ACL 5 matched, not delayed by Mailgate greylist/);
  });

  test('trusted domain without SPF pass: greylisted', async () => {
    const { filter } = setup(SAMPLE_CONF, { 'gmail.com': 'softfail' });
    expect(smtp((await deliver(filter, { ...base, ...trusted })).rcpt[0])).toBe(
      '451 4.7.1 Greylisting in action, please come back in 00:10:00',
    );
  });

  test('an SPF pass alone does not bypass (spf clauses turn the global SPF bypass off)', async () => {
    const { filter } = setup(SAMPLE_CONF, { 'example.com': 'pass' });
    expect((await deliver(filter, base)).rcpt[0]?.status).toBe('tempfail');
  });

  test('everyone else: greylisted 10 minutes, auto-whitelisted 1 week', async () => {
    const { filter, clock } = setup(SAMPLE_CONF);
    expect(smtp((await deliver(filter, base)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:10:00');
    clock.advance(10 * MINUTE);
    const out = await deliver(filter, { ...base, client: '192.0.2.99' });
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(out.header).toMatch(/^Delayed for 00:10:00 by Mailgate greylist/);
  });

  test('SPF is asked with the client address, HELO and sender', async () => {
    const s = setup(SAMPLE_CONF, { 'gmail.com': 'pass' });
    await deliver(s.filter, { ...base, ...trusted, helo: 'mail-ot1.google.test' });
    expect(s.spfAsked[0]).toEqual({ ip: '192.0.2.10', helo: 'mail-ot1.google.test', sender: 'someone@gmail.com' });
  });
});
