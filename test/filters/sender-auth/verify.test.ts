import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSenderAuthFilter } from '../../../src/filters/sender-auth/index.js';
import { added, AUTHSERV, deliver, environment, HEADERS, messageBytes, options, rsaKey, signatureField, type Env, type KeyPair } from './helpers.js';
import { hangGuard } from '../../hang-guard.js';

let env: Env;
let key: KeyPair;
const REMOTE_OK = '192.0.2.10'; // in example.com's SPF
const REMOTE_BAD = '198.51.100.7'; // not in it

beforeAll(async () => {
  key = rsaKey();
  env = await environment({
    'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject; rua=mailto:d@example.com'] },
    'sel._domainkey.example.com': { TXT: [key.record] },
    'broken._domainkey.example.com': { behaviour: 'garbage' },
    'quar.example.org': { TXT: ['v=spf1 -all'] },
    '_dmarc.quar.example.org': { TXT: ['v=DMARC1; p=quarantine'] },
    'half.example.org': { TXT: ['v=spf1 -all'] },
    '_dmarc.half.example.org': { TXT: ['v=DMARC1; p=reject; pct=50'] },
  });
});
afterAll(async () => env.close());

async function signed(headers: [string, string][], body = 'Hello.\r\n', canonicalization = 'relaxed/relaxed'): Promise<[string, string][]> {
  const { signatures } = await dkimSign(messageBytes(headers, body), {
    canonicalization,
    signatureData: [{ signingDomain: 'example.com', selector: 'sel', privateKey: key.privatePem, canonicalization }],
  } as never);
  return [signatureField(signatures), ...headers];
}

const ar = (run: Awaited<ReturnType<typeof deliver>>) => added(run.eom, 'Authentication-Results') ?? '';

describe('auth filter: DKIM and DMARC at end of message', () => {
  it('a correctly signed message: dkim=pass, dmarc=pass, one Authentication-Results with our authserv-id', async () => {
    const filter = createSenderAuthFilter('auth', options(), env.ctx);
    const run = await deliver(filter, { address: REMOTE_BAD, headers: await signed(HEADERS) });
    expect(run.eom?.reply.status).toBe('continue');
    const value = ar(run);
    expect(value.startsWith(` ${AUTHSERV};\n\t`)).toBe(true); // leading space: negotiated HDR_LEADSPC
    expect(value).toMatch(/spf=fail .*smtp\.mailfrom=alice@example\.com/);
    expect(value).toMatch(/dkim=pass header\.d=example\.com header\.s=sel header\.a=rsa-sha256 header\.b=\S{8}/);
    expect(value).toMatch(/dmarc=pass \(p=REJECT\) header\.from=example\.com/);
    expect(run.eom?.changes.filter((c) => c.kind === 'insertHeader')).toHaveLength(1);
    expect(run.eom?.changes[0]).toMatchObject({ kind: 'insertHeader', index: 0, name: 'Authentication-Results' });
  });

  it('logs its results at debug, not info: the statistics line is the one info line per session', async () => {
    const filter = createSenderAuthFilter('auth', options(), env.ctx);
    const from = env.logs.length;
    await deliver(filter, { address: REMOTE_BAD, headers: await signed(HEADERS) });
    const results = env.logs.slice(from).filter((l) => l['msg'] === 'authentication results');
    expect(results).toHaveLength(1);
    expect(results[0]!['level']).toBe(20);
  });

  it('a c=simple/simple signature verifies too: header bytes are kept exactly (no space after the colon)', async () => {
    const filter = createSenderAuthFilter('auth', options(), env.ctx);
    const headers: [string, string][] = [['From', 'alice@example.com'], ['Subject', 'x  y'], ['Date', 'Mon, 1 Jan 2024 00:00:00 +0000']];
    const raw = Buffer.from('From: alice@example.com\r\nSubject:  x  y\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nHello.\r\n');
    const { signatures } = await dkimSign(raw, { canonicalization: 'simple/simple', signatureData: [{ signingDomain: 'example.com', selector: 'sel', privateKey: key.privatePem, canonicalization: 'simple/simple' }] } as never);
    // Subject's value carries two spaces after the colon: deliver() adds one, the value holds the other.
    headers[1] = ['Subject', ' x  y'];
    const run = await deliver(filter, { address: REMOTE_OK, headers: [signatureField(signatures), ...headers] });
    expect(ar(run)).toContain('dkim=pass');
  });

  it('a body changed after signing: dkim=fail; DMARC fails; p=reject refuses with 550 5.7.1 when dmarc_reject is on', async () => {
    const headers = await signed(HEADERS, 'original body\r\n');
    const report = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { address: REMOTE_BAD, headers, body: 'tampered body\r\n' });
    expect(ar(report)).toMatch(/dkim=fail \(body hash did not verify\)/);
    expect(ar(report)).toMatch(/dmarc=fail \(p=REJECT\)/);
    expect(report.eom?.reply.status).toBe('continue');

    const enforcing = await deliver(createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx), { address: REMOTE_BAD, headers, body: 'tampered body\r\n' });
    expect(enforcing.eom?.reply).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: 'Rejected by DMARC policy for example.com' });
    expect(enforcing.eom?.changes).toEqual([]);
  });

  it('DMARC passes on SPF alone when the client is allowed (unsigned message)', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx), { address: REMOTE_OK, headers: HEADERS });
    expect(ar(run)).toMatch(/spf=pass[^;]*;\n\tdkim=none;\n\tdmarc=pass/);
    expect(run.eom?.reply.status).toBe('continue');
  });

  it('p=quarantine quarantines (with the Authentication-Results kept); pct=50 samples with the injected random', async () => {
    const from: [string, string][] = [['From', 'x@quar.example.org'], ['Subject', 'q']];
    const run = await deliver(createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx), { sender: 'x@quar.example.org', headers: from });
    expect(run.eom?.reply.status).toBe('continue');
    expect(run.eom?.changes.find((c) => c.kind === 'quarantine')).toEqual({ kind: 'quarantine', reason: 'DMARC policy of quarantine.example.org is quarantine'.replace('quarantine.example.org', 'quar.example.org') });
    expect(ar(run)).toContain('dmarc=fail');

    const half: [string, string][] = [['From', 'x@half.example.org']];
    const inSample = await deliver(createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx, { random: () => 0.2 }), { sender: 'x@half.example.org', headers: half });
    expect(inSample.eom?.reply.status).toBe('reject');
    const outside = await deliver(createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx, { random: () => 0.7 }), { sender: 'x@half.example.org', headers: half });
    expect(outside.eom?.reply.status).toBe('continue');
    expect(outside.eom?.changes.some((c) => c.kind === 'quarantine')).toBe(true);
  });

  it('removes incoming Authentication-Results fields that carry our authserv-id (any case, comments, version), keeps others', async () => {
    const headers: [string, string][] = [
      ['Authentication-Results', `${AUTHSERV}; dkim=pass header.d=paypal.com`],
      ['Authentication-Results', 'other.example; spf=pass'],
      ['Authentication-Results', `(forged) ${AUTHSERV.toUpperCase()} 1; dmarc=pass`],
      ['Authentication-Results', `"${AUTHSERV}"; spf=pass`],
      ['Authentication-Results', `${AUTHSERV}.evil.example; spf=pass`],
      ...HEADERS,
    ];
    const run = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { headers });
    const deletes = run.eom?.changes.filter((c) => c.kind === 'deleteHeader');
    expect(deletes).toEqual([
      { kind: 'deleteHeader', index: 4, name: 'Authentication-Results' },
      { kind: 'deleteHeader', index: 3, name: 'Authentication-Results' },
      { kind: 'deleteHeader', index: 1, name: 'Authentication-Results' },
    ]);
    expect(env.logs.some((l) => String(l['msg']).includes('removed 3 forged'))).toBe(true);
  });

  it('no From: dmarc=permerror; two From domains: dmarc=permerror; never a crash', async () => {
    const filter = createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx);
    const none = await deliver(filter, { headers: [['Subject', 'no from']] });
    expect(ar(none)).toMatch(/dmarc=permerror \(no From address\)/);
    expect(none.eom?.reply.status).toBe('continue');
    const two = await deliver(filter, { headers: [['From', 'a@example.com, b@example.org']] });
    expect(ar(two)).toMatch(/dmarc=permerror \(several From domains\)/);
  });

  it('garbage DNS answers for the key: dkim=temperror, and the message still passes', async () => {
    const headers = (await signed(HEADERS)).map(([n, v]): [string, string] => (n === 'DKIM-Signature' ? [n, v.replace('s=sel', 's=broken')] : [n, v]));
    const run = await deliver(createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx), { address: REMOTE_OK, headers });
    expect(ar(run)).toMatch(/dkim=(temperror|fail|neutral)/);
    expect(run.eom?.reply.status).toBe('continue'); // SPF pass keeps DMARC passing
  });

  it('an unusable DKIM-Signature (unknown algorithm) is dkim=permerror, not "none"', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options(), env.ctx), {
      headers: [['DKIM-Signature', 'v=1; a=rot13-md5; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA'], ...HEADERS],
    });
    expect(ar(run)).toMatch(/dkim=permerror \(unusable signature\)/);
  });

  it('huge headers and hundreds of signatures: a bounded number of key lookups and a short field', async () => {
    const headers: [string, string][] = [
      ...Array.from({ length: 300 }, (_, i): [string, string] => ['DKIM-Signature', `v=1; a=rsa-sha256; d=d${i}.example.com; s=s${'x'.repeat(500)}; h=from; bh=AAAA; b=AAAA`]),
      ['Subject', 'y'.repeat(200_000)],
      ...HEADERS,
    ];
    const before = env.stub.queries.length;
    const run = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { headers });
    const keyLookups = env.stub.queries.slice(before).filter((q) => q.includes('._domainkey.'));
    expect(keyLookups.length).toBeLessThanOrEqual(5);
    expect(ar(run).length).toBeLessThan(3000);
    expect(ar(run).match(/dkim=fail/g)).toHaveLength(5); // bh=AAAA never matches
  });

  it('a message over max_message_size passes with spf only and dkim=neutral (not verified), with a log line', async () => {
    const run = await deliver(createSenderAuthFilter('auth', options({ maxMessageSize: 500 }), env.ctx), { address: REMOTE_OK, headers: HEADERS, body: 'z'.repeat(2000) });
    expect(ar(run)).toMatch(/spf=pass[^;]*;\n\tdkim=neutral \(message too large to verify\)$/);
    expect(env.logs.some((l) => String(l['msg']).includes('larger than max_message_size'))).toBe(true);
  });

  it('verification bounded by check_timeout when DNS never answers', async () => {
    env.stub.setBehaviour('silent');
    try {
      const noHang = hangGuard(300);
      const run = await deliver(createSenderAuthFilter('auth', options({ spf: false, checkTimeout: 0.3 }), env.ctx), { headers: await signed(HEADERS) });
      noHang();
      expect(ar(run)).toMatch(/dkim=temperror/);
    } finally {
      env.stub.setBehaviour(undefined);
    }
  });

  it('authenticated clients are not checked (no SPF query, no Authentication-Results) unless skip_authenticated = false', async () => {
    const before = env.stub.queries.length;
    const run = await deliver(createSenderAuthFilter('auth', options(), env.ctx), { macros: { '{auth_authen}': 'alice' }, headers: HEADERS, address: REMOTE_BAD });
    expect(env.stub.queries.length).toBe(before);
    expect(run.mail.status).toBe('continue');
    expect(ar(run)).toBe('');
    const checked = await deliver(createSenderAuthFilter('auth', options({ skipAuthenticated: false }), env.ctx), { macros: { '{auth_authen}': 'alice' }, headers: HEADERS, address: REMOTE_BAD });
    expect(ar(checked)).toContain('spf=fail');
  });

  it('verify = false: no message stages unless signing or Received-SPF need them', async () => {
    const filter = createSenderAuthFilter('auth', options({ verify: false }), env.ctx);
    const caps = await (await filter.open()).negotiate((await import('../../../src/mail/capabilities.js')).FULL_OFFER);
    expect([...caps.stages]).toEqual(['connect', 'helo', 'mail']);
  });
});
