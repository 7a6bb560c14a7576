import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenderAuthFilter } from '../../../src/filters/sender-auth/index.js';
import { added, deliver, environment, HEADERS, options, type Env } from './helpers.js';

let env: Env;
beforeAll(async () => {
  env = await environment({
    'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    'evil.example.net': { TXT: ['v=spf1 ip4:198.51.100.1 exp=explain.%{d} -all'] },
    'explain.evil.example.net': { TXT: ['Mail from %{d} is not accepted from %{i}'] },
    'soft.example.com': { TXT: ['v=spf1 ~all'] },
    'perm.example.com': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
    'slow.example.com': { behaviour: 'silent' },
    'badexp.example.com': { TXT: ['v=spf1 exp=garbage.example.com -all'] },
    'garbage.example.com': { behaviour: 'garbage' },
  });
});
afterAll(async () => env.close());

describe('auth filter: SPF at MAIL FROM', () => {
  it('fail with spf_reject_fail: 550 5.7.23 with the domain\'s own explanation (exp=, macros expanded)', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options({ spfRejectFail: true }), env.ctx), { sender: 'x@evil.example.net' });
    expect(run.mail).toEqual({
      status: 'reject',
      code: 550,
      enhancedCode: '5.7.23',
      text: 'Message rejected due to: SPF fail - not authorized. Mail from evil.example.net is not accepted from 192.0.2.10',
    });
    expect(env.logs.some((l) => l['msg'] === 'SPF fail: MAIL FROM refused' && l['sender'] === 'x@evil.example.net')).toBe(true);
  });

  it('fail without an exp= (or with a broken one): the usual open-spf.org pointer', async () => {
    const filter = createSenderAuthFilter('auth', options({ spfRejectFail: true }), env.ctx);
    const run = await deliver(filter, { sender: 'x@example.com', address: '203.0.113.5' });
    expect(run.mail.status).toBe('reject');
    expect(run.mail.text).toBe('Message rejected due to: SPF fail - not authorized. Please see https://www.open-spf.org/Why?s=mfrom;id=x%40example.com;ip=203.0.113.5;r=client.example.net');
    const broken = await deliver(filter, { sender: 'x@badexp.example.com' });
    expect(broken.mail.text).toContain('Please see https://www.open-spf.org/Why?');
  });

  it('fail without spf_reject_fail: accepted, reported in Authentication-Results', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { sender: 'x@example.com', address: '203.0.113.5', headers: HEADERS });
    expect(run.mail.status).toBe('continue');
    expect(added(run.eom, 'Authentication-Results')).toMatch(/spf=fail \(mx\.test\.example: domain of x@example\.com does not designate 203\.0\.113\.5 as permitted sender\) smtp\.mailfrom=x@example\.com/);
  });

  it('softfail is never refused', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options({ spfRejectFail: true, spfRejectPermerror: true }), env.ctx), { sender: 'x@soft.example.com' });
    expect(run.mail.status).toBe('continue');
  });

  it('permerror refused only with spf_reject_permerror (550 5.7.24)', async () => {
    expect((await deliver(createSenderAuthFilter('auth', options(), env.ctx), { sender: 'x@perm.example.com' })).mail.status).toBe('continue');
    const run = await deliver(createSenderAuthFilter('auth', options({ spfRejectPermerror: true }), env.ctx), { sender: 'x@perm.example.com' });
    expect(run.mail).toMatchObject({ status: 'reject', code: 550, enhancedCode: '5.7.24' });
  });

  it('temperror (DNS not answering) tempfails only with spf_defer_temperror (451 4.7.24)', async () => {
    const lenient = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { sender: 'x@slow.example.com', headers: HEADERS });
    expect(lenient.mail.status).toBe('continue');
    expect(added(lenient.eom, 'Authentication-Results')).toContain('spf=temperror');
    const strict = await deliver(createSenderAuthFilter('auth', options({ spfDeferTemperror: true }), env.ctx), { sender: 'x@slow.example.com' });
    expect(strict.mail).toMatchObject({ status: 'tempfail', code: 451, enhancedCode: '4.7.24' });
  });

  it('Received-SPF is added when received_spf_header is on', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options({ receivedSpfHeader: true }), env.ctx), { sender: 'x@example.com', headers: HEADERS });
    const value = added(run.eom, 'Received-SPF');
    expect(value).toMatch(/^ pass \(mx\.test\.example: domain of x@example\.com designates 192\.0\.2\.10 as permitted sender\)\n\tclient-ip=192\.0\.2\.10; envelope-from="x@example\.com"; helo=client\.example\.net; receiver=mx\.test\.example;$/);
  });

  it('the null sender is checked as postmaster@HELO and reported as smtp.helo', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { sender: '', helo: 'example.com', headers: HEADERS });
    expect(added(run.eom, 'Authentication-Results')).toMatch(/spf=pass .* smtp\.helo=example\.com/);
  });

  it('loopback clients, unix-socket clients and authenticated clients are not checked', async () => {
    const filter = createSenderAuthFilter('auth', options({ spfRejectFail: true }), env.ctx);
    const before = env.stub.queries.length;
    expect((await deliver(filter, { sender: 'x@evil.example.net', address: '127.0.0.1' })).mail.status).toBe('continue');
    expect((await deliver(filter, { sender: 'x@evil.example.net', family: 'unix' })).mail.status).toBe('continue');
    expect((await deliver(filter, { sender: 'x@evil.example.net', macros: { '{auth_authen}': 'bob' } })).mail.status).toBe('continue');
    expect(env.stub.queries.length).toBe(before);
  });

  it('shares the SPF result through FilterContext.spf (one DNS round for auth and greylist)', async () => {
    await deliver(createSenderAuthFilter('auth', options(), env.ctx), { sender: 'y@example.com' });
    const before = env.stub.queries.length;
    const again = await env.ctx.spf({ ip: '192.0.2.10', helo: 'client.example.net', sender: 'y@example.com' });
    expect(again.result).toBe('pass');
    expect(env.stub.queries.length).toBe(before);
  });

  it('a checker that throws is a temperror with one log line, not a crash', async () => {
    const ctx = { ...env.ctx, spf: () => Promise.reject(new Error('kaput')) };
    const run = await deliver(createSenderAuthFilter('auth', options({ spfDeferTemperror: true }), ctx), { sender: 'x@example.com' });
    expect(run.mail.status).toBe('tempfail');
    expect(env.logs.filter((l) => l['msg'] === 'SPF check failed; reported as temperror')).toHaveLength(1);
  });
});
