import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DkimSigningConfig } from '../../../src/config/builtins/sender-auth.js';
import { ConfigError } from '../../../src/config/errors.js';
import { createSenderAuthFilter } from '../../../src/filters/sender-auth/index.js';
import { added, deliver, ed25519Key, environment, HEADERS, messageBytes, options, rsaKey, writeKey, type Env, type KeyPair } from './helpers.js';

let env: Env;
let rsa: KeyPair;
let ed: KeyPair;
let rsaFile: string;
let edFile: string;

beforeAll(async () => {
  rsa = rsaKey();
  ed = ed25519Key();
  env = await environment({
    'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
    'mail2024._domainkey.example.com': { TXT: [rsa.record] },
    'ed._domainkey.example.org': { TXT: [ed.record] },
  });
  rsaFile = writeKey(env.dir, 'rsa.pem', rsa.privatePem);
  edFile = writeKey(env.dir, 'ed.pem', ed.privatePem);
});
afterAll(async () => env.close());

const signing = (domain: string, selector: string, keyFile: string, extra: Partial<DkimSigningConfig> = {}): DkimSigningConfig => ({
  domain,
  selector,
  keyFile,
  keyFileLocation: { file: 'mailgate.toml', line: 7, key: 'milter[0].sign[0].key_file' },
  ...extra,
});

/** The message as delivered: our DKIM-Signature on top of what the client sent. */
function delivered(signature: string, headers: [string, string][], body = 'Hello.\r\n'): Buffer {
  const field = `DKIM-Signature:${signature.replace(/\n/g, '\r\n')}\r\n`;
  return Buffer.concat([Buffer.from(field), messageBytes(headers, body)]);
}

describe('auth filter: DKIM signing', () => {
  it('signs mail from the loopback network whose From: domain has a key (rsa-sha256, relaxed/relaxed); mailauth verifies it via the DNS stub', async () => {
    const filter = createSenderAuthFilter('auth', options({ sign: [signing('example.com', 'mail2024', rsaFile)] }), env.ctx);
    const run = await deliver(filter, { address: '127.0.0.1', headers: HEADERS, body: 'Signed body.\r\n' });
    const sig = added(run.eom, 'DKIM-Signature');
    expect(sig).toBeDefined();
    expect(sig).toMatch(/^ v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.com;/);
    expect(sig).not.toContain('\r');
    expect(added(run.eom, 'Authentication-Results')).toBeUndefined(); // our own mail is signed, not verified
    const check = await dkimVerify(delivered(sig!, HEADERS, 'Signed body.\r\n'), { resolver: env.ctx.resolver as never });
    expect(check.results.map((r) => [r.status.result, r.signingDomain])).toEqual([['pass', 'example.com']]);
  });

  it('signs with Ed25519 when the key is Ed25519 (RFC 8463)', async () => {
    const filter = createSenderAuthFilter('auth', options({ sign: [signing('example.org', 'ed', edFile)] }), env.ctx);
    const headers: [string, string][] = [['From', 'Bob <bob@example.org>'], ['Subject', 'ed']];
    const run = await deliver(filter, { address: '127.0.0.1', headers });
    const sig = added(run.eom, 'DKIM-Signature')!;
    expect(sig).toContain('a=ed25519-sha256');
    const check = await dkimVerify(delivered(sig, headers), { resolver: env.ctx.resolver as never });
    expect(check.results[0]?.status.result).toBe('pass');
  });

  it('signs for authenticated clients anywhere (sign_authenticated), and the signed message passes our own verification', async () => {
    const filter = createSenderAuthFilter('auth', options({ sign: [signing('example.com', 'mail2024', rsaFile)] }), env.ctx);
    const run = await deliver(filter, { address: '203.0.113.9', macros: { '{auth_authen}': 'alice' }, headers: HEADERS });
    const sig = added(run.eom, 'DKIM-Signature')!;
    expect(sig).toBeDefined();
    // Now the message arrives at an MX running the auth filter, from a host outside example.com's SPF.
    const mx = createSenderAuthFilter('auth', options({ dmarcReject: true }), env.ctx);
    const inbound = await deliver(mx, { address: '198.51.100.20', headers: [['DKIM-Signature', sig.slice(1)], ...HEADERS] });
    expect(added(inbound.eom, 'Authentication-Results')).toMatch(/dkim=pass header\.d=example\.com header\.s=mail2024/);
    expect(added(inbound.eom, 'Authentication-Results')).toMatch(/dmarc=pass/);
    expect(inbound.eom?.reply.status).toBe('continue');
  });

  it('does not sign for outside clients, other From: domains, or sign_authenticated = false', async () => {
    const sign = [signing('example.com', 'mail2024', rsaFile)];
    const outside = await deliver(createSenderAuthFilter('auth', options({ sign }), env.ctx), { address: '192.0.2.10', headers: HEADERS });
    expect(added(outside.eom, 'DKIM-Signature')).toBeUndefined();
    expect(added(outside.eom, 'Authentication-Results')).toContain('spf=pass');
    const other = await deliver(createSenderAuthFilter('auth', options({ sign }), env.ctx), { address: '127.0.0.1', headers: [['From', 'x@example.net']] });
    expect(added(other.eom, 'DKIM-Signature')).toBeUndefined();
    const noAuth = await deliver(createSenderAuthFilter('auth', options({ sign, signAuthenticated: false }), env.ctx), { address: '203.0.113.9', macros: { '{auth_authen}': 'alice' }, headers: HEADERS });
    expect(added(noAuth.eom, 'DKIM-Signature')).toBeUndefined();
  });

  it('sign_networks and the headers list are honoured', async () => {
    const sign = [signing('example.com', 'mail2024', rsaFile, { headers: ['From', 'Subject'] })];
    const run = await deliver(createSenderAuthFilter('auth', options({ sign, signNetworks: ['10.1.0.0/16'] }), env.ctx), { address: '10.1.2.3', headers: HEADERS });
    expect(added(run.eom, "DKIM-Signature")).toMatch(/h=Subject: From;/);
  });

  it('a key file that is missing, not a key, or not RSA/Ed25519 stops the start with a ConfigError naming the file and line', () => {
    const bad = (keyFile: string) => () => createSenderAuthFilter('auth', options({ sign: [signing('example.com', 's', keyFile)] }), env.ctx);
    expect(bad('/nonexistent/dkim.pem')).toThrow(ConfigError);
    expect(bad('/nonexistent/dkim.pem')).toThrow(/^mailgate\.toml:7: milter\[0\]\.sign\[0\]\.key_file: DKIM key \/nonexistent\/dkim\.pem for example\.com: cannot be read \(ENOENT\)$/);
    expect(bad(writeKey(env.dir, 'junk.pem', 'not a key'))).toThrow(/junk\.pem for example\.com: is not a PEM private key/);
    const { generateKeyPairSync } = require_crypto();
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(bad(writeKey(env.dir, 'ec.pem', ec))).toThrow(/is a ec key; DKIM signs with RSA or Ed25519/);
    expect(bad(writeKey(env.dir, 'short.pem', rsaKey(512).privatePem))).toThrow(/RSA key of 512 bits is too short/);
  });

  it('a message larger than max_message_size is passed unsigned with a log line', async () => {
    const filter = createSenderAuthFilter('auth', options({ sign: [signing('example.com', 'mail2024', rsaFile)], maxMessageSize: 300 }), env.ctx);
    const run = await deliver(filter, { address: '127.0.0.1', headers: HEADERS, body: 'x'.repeat(1000) });
    expect(added(run.eom, 'DKIM-Signature')).toBeUndefined();
    expect(env.logs.some((l) => l['msg'] === 'message larger than max_message_size: not DKIM-signed')).toBe(true);
  });

  it('interop: a message signed by opendkim-testmsg (c=simple/simple as opendkim does) verifies through our filter', async () => {
    const tool = '/usr/sbin/opendkim-testmsg';
    expect(existsSync(tool), `${tool} is missing: run scripts/install-test-peers.sh`).toBe(true);
    const input = 'From: alice@example.com\nTo: bob@example.org\nSubject:   spaced   subject\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nHello from opendkim.\n';
    const out = spawnSync(tool, ['-d', 'example.com', '-s', 'mail2024', '-k', rsaFile], { input, encoding: 'utf8', timeout: 15_000 });
    expect(out.status, out.stderr).toBe(0);
    const [head, body] = out.stdout.split('\n\n') as [string, string];
    // Header fields as an MTA hands them to a milter: unfolded name, value with its leading space, LF folds.
    const fields = head.split(/\n(?![ \t])/).map((f): [string, string] => [f.slice(0, f.indexOf(':')), f.slice(f.indexOf(':') + 1)]);
    const filter = createSenderAuthFilter('auth', options(), env.ctx);
    const run = await deliver(filter, { address: '192.0.2.10', headers: fields.map(([n, v]) => [n, v.slice(1)]), body });
    expect(added(run.eom, 'Authentication-Results')).toMatch(/dkim=pass header\.d=example\.com header\.s=mail2024/);
  });
});

function require_crypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}
