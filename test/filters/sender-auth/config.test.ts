import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import type { SenderAuthOptions } from '../../../src/config/builtins/sender-auth.js';
import { ConfigError } from '../../../src/config/errors.js';
import { formatConfig } from '../../../src/config/format.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/mail/logger.js';
import { configError } from '../../config/fixtures.js';
import { environment, rsaKey, writeKey, type Env } from './helpers.js';

const auth = (extra: string, builtin = 'sender-auth'): string => `[[milter]]\nname = "auth"\nbuiltin = "${builtin}"\n${extra}\n`;
const read = (text: string, baseDir = '/etc/mailgate'): SenderAuthOptions => {
  const m = parseConfig(text, 'mailgate.toml', { baseDir }).config.milters[0]!;
  if (!('builtin' in m) || m.builtin !== 'sender-auth') throw new Error('not the sender-auth filter');
  return m.options;
};

describe('[[milter]] builtin = "auth", the former name: an accepted alias', () => {
  it('reads the same options as builtin = "sender-auth", and the child is the sender-auth filter', () => {
    const extra = 'authserv_id = "mx.example.com"\nspf_reject_fail = true';
    expect(read(auth(extra, 'auth'))).toEqual(read(auth(extra)));
  });

  it('show-config prints the canonical name', () => {
    const text = formatConfig(parseConfig(auth('dmarc_reject = true', 'auth'), 'mailgate.toml', { baseDir: '/etc/mailgate' }));
    expect(text).toMatch(/^builtin = "sender-auth"/m);
    expect(text).not.toMatch(/^builtin = "auth"/m);
    expect(text).toMatch(/^dmarc_reject = true/m);
  });

  it('an unknown name lists the canonical names only', () => {
    const err = configError(auth('', 'authentication'));
    expect(err.message).toContain('one of greylist, spamassassin, rspamd, clamav, sender-auth, rules');
  });
});

describe('[[milter]] builtin = "sender-auth": options', () => {
  it('defaults', () => {
    expect(read(auth(''))).toEqual({
      spf: true,
      spfRejectFail: false,
      spfRejectPermerror: false,
      spfDeferTemperror: false,
      receivedSpfHeader: false,
      spfSkipNetworks: ['127.0.0.0/8', '::1/128'],
      skipAuthenticated: true,
      verify: true,
      dmarcReject: false,
      maxMessageSize: 10 * 1024 * 1024,
      minKeyBits: 1024,
      checkTimeout: 20,
      sign: [],
      signNetworks: ['127.0.0.0/8', '::1/128'],
      signAuthenticated: true,
    });
  });

  it('every key, with [[milter.sign]] tables and the inline form, relative key files from the config directory', () => {
    const o = read(
      auth(`authserv_id = "mx.example.com"
spf = true
spf_reject_fail = true
spf_reject_permerror = true
spf_defer_temperror = true
received_spf_header = true
spf_skip_networks = ["10.0.0.0/8"]
skip_authenticated = false
verify = true
dmarc_reject = true
max_message_size = 1000000
min_key_bits = 2048
check_timeout = 5
sign_networks = ["192.0.2.0/24", "2001:db8::/32"]
sign_authenticated = false

[[milter.sign]]
domain = "Example.COM"
selector = "mail2024"
key_file = "keys/example.com.pem"

[[milter.sign]]
domain = "example.org"
selector = "ed"
key_file = "/etc/dkim/example.org.pem"
headers = ["From", "To", "Subject"]`),
    );
    expect(o).toMatchObject({
      authservId: 'mx.example.com',
      spfRejectFail: true,
      spfRejectPermerror: true,
      spfDeferTemperror: true,
      receivedSpfHeader: true,
      spfSkipNetworks: ['10.0.0.0/8'],
      skipAuthenticated: false,
      dmarcReject: true,
      maxMessageSize: 1000000,
      minKeyBits: 2048,
      checkTimeout: 5,
      signNetworks: ['192.0.2.0/24', '2001:db8::/32'],
      signAuthenticated: false,
    });
    expect(o.sign).toEqual([
      { domain: 'example.com', selector: 'mail2024', keyFile: '/etc/mailgate/keys/example.com.pem', keyFileLocation: { file: 'mailgate.toml', line: 23, key: 'milter "auth".sign[0].key_file' } },
      { domain: 'example.org', selector: 'ed', keyFile: '/etc/dkim/example.org.pem', headers: ['From', 'To', 'Subject'], keyFileLocation: { file: 'mailgate.toml', line: 28, key: 'milter "auth".sign[1].key_file' } },
    ]);
    const inline = read(auth('sign = [{ domain = "example.net", selector = "s1", key_file = "/k.pem" }]'));
    expect(inline.sign[0]).toMatchObject({ domain: 'example.net', selector: 's1', keyFile: '/k.pem' });
  });

  it.each([
    ['spf_reject_fail = "yes"', 'mailgate.toml:4: milter "auth".spf_reject_fail: expected true or false, got a string ("yes")'],
    ['spf_reject = true', 'mailgate.toml:4: milter "auth".spf_reject: unknown key "spf_reject" in [[milter]]'],
    ['sign_networks = ["192.0.2.0/33"]', 'mailgate.toml:4: milter "auth".sign_networks[0]: "192.0.2.0/33": prefix length "33" is not a number from 0 to 32'],
    ['max_message_size = 0', 'mailgate.toml:4: milter "auth".max_message_size: must be greater than 0, got 0'],
    ['authserv_id = "mx example"', 'mailgate.toml:4: milter "auth".authserv_id: "mx example" is not usable as an authserv-id (one word, no spaces, ";", quotes or parentheses)'],
    ['sign = "example.com"', 'mailgate.toml:4: milter "auth".sign: expected an array of tables (write [[milter.sign]] for each one), got a string ("example.com")'],
    ['[[milter.sign]]\ndomain = "example.com"\nselector = "s"\nkey_file = "/k"\nkeyfile = "/k"', 'mailgate.toml:8: milter "auth".sign[0].keyfile: unknown key "keyfile" in [[milter.sign]]'],
    ['[[milter.sign]]\ndomain = "example.com"\nkey_file = "/k"', 'mailgate.toml:4: milter "auth".sign[0]: [[milter.sign]] needs selector (a DKIM selector)'],
    ['[[milter.sign]]\ndomain = "exa mple.com"\nselector = "s"\nkey_file = "/k"', 'mailgate.toml:5: milter "auth".sign[0].domain: "exa mple.com" is not a domain name'],
    ['[[milter.sign]]\ndomain = "example.com"\nselector = "s;x"\nkey_file = "/k"', 'mailgate.toml:6: milter "auth".sign[0].selector: "s;x" is not a DKIM selector (letters, digits, "-", "_", dots)'],
    ['[[milter.sign]]\ndomain = "example.com"\nselector = "s"\nkey_file = "/k"\nheaders = ["Subject"]', 'mailgate.toml:8: milter "auth".sign[0].headers: must include "From" (RFC 6376 §5.4)'],
    [
      '[[milter.sign]]\ndomain = "example.com"\nselector = "s"\nkey_file = "/k"\n[[milter.sign]]\ndomain = "EXAMPLE.com"\nselector = "t"\nkey_file = "/k"',
      'mailgate.toml:9: milter "auth".sign[1].domain: domain "example.com" already has a key (sign[0])',
    ],
  ])('%s → %s', (extra, message) => {
    // Unknown keys may get a "did you mean" hint after the message.
    expect(configError(auth(extra)).message.slice(0, message.length)).toBe(message);
  });
});

describe('auth through the chain built from mailgate.toml', () => {
  let env: Env;
  beforeAll(async () => {
    env = await environment({
      'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
    });
  });
  afterAll(async () => env.close());

  const toml = (port: number, extra = '') => `[manager]
dns_servers = ["127.0.0.1:${port}"]

${auth(`authserv_id = "mx.chain.example"\nspf_reject_fail = true\ndmarc_reject = true\n${extra}`)}`;

  async function run(chain: ReturnType<typeof chainFromConfig>, address: string, headers: [string, string][]) {
    const { context } = await import('../../milter/helpers.js');
    const { FULL_OFFER } = await import('../../../src/mail/capabilities.js');
    const s = chain.open();
    const ctx = context();
    await s.negotiate(FULL_OFFER);
    await s.connect!({ hostname: 'client.example.net', family: 'inet', address, port: 1 }, ctx);
    await s.helo!('client.example.net', ctx);
    const mail = await s.mail!('<alice@example.com>', [], ctx);
    if (mail.status !== 'continue') return { mail };
    await s.rcpt!('<bob@example.org>', [], ctx);
    await s.data!(ctx);
    for (const [n, v] of headers) await s.header!(n, ` ${v}`, ctx);
    await s.endOfHeaders!(ctx);
    await s.body!(Buffer.from('hi\r\n'), ctx);
    const eom = await s.endOfMessage!(ctx);
    await s.close!();
    return { mail, eom };
  }

  it('[manager] dns_servers points the shared resolver at the stub: SPF pass gets an Authentication-Results, forged ones removed', async () => {
    const chain = chainFromConfig(parseConfig(toml(env.stub.port), 'mailgate.toml').config, silentLogger);
    try {
      const r = await run(chain, '192.0.2.10', [
        ['Authentication-Results', 'mx.chain.example; dkim=pass header.d=example.com'],
        ['From', 'alice@example.com'],
        ['Subject', 'hi'],
      ]);
      expect(r.eom?.reply.status).toBe('continue');
      const kinds = r.eom?.changes.map((c) => c.kind);
      expect(kinds).toContain('deleteHeader');
      const ar = r.eom?.changes.find((c) => c.kind === 'insertHeader' && c.name === 'Authentication-Results');
      expect(ar && 'value' in ar ? ar.value : '').toMatch(/^ ?mx\.chain\.example;\n\tspf=pass .*;\n\tdkim=none;\n\tdmarc=pass/);
    } finally {
      chain.dispose();
    }
  });

  it('an injected resolver is used; SPF fail is refused at MAIL with 550 5.7.23', async () => {
    const chain = chainFromConfig(parseConfig(toml(1), 'mailgate.toml').config, silentLogger, { resolver: env.ctx.resolver });
    try {
      const r = await run(chain, '203.0.113.1', [['From', 'alice@example.com']]);
      expect(r.mail).toMatchObject({ status: 'reject', code: 550, enhancedCode: '5.7.23' });
    } finally {
      chain.dispose();
    }
  });

  it('a key file that cannot be read stops the chain from being built, naming file, line and key', () => {
    const text = toml(env.stub.port, '[[milter.sign]]\ndomain = "example.com"\nselector = "s"\nkey_file = "/nonexistent/k.pem"');
    expect(() => chainFromConfig(parseConfig(text, 'mailgate.toml').config, silentLogger)).toThrow(ConfigError);
    expect(() => chainFromConfig(parseConfig(text, 'mailgate.toml').config, silentLogger)).toThrow(
      /^mailgate\.toml:13: milter "auth"\.sign\[0\]\.key_file: DKIM key \/nonexistent\/k\.pem for example\.com: cannot be read \(ENOENT\)$/,
    );
  });

  it('a good key file loads', () => {
    const file = writeKey(env.dir, 'k.pem', rsaKey().privatePem);
    const text = toml(env.stub.port, `[[milter.sign]]\ndomain = "example.com"\nselector = "s"\nkey_file = "${file}"`);
    const chain = chainFromConfig(parseConfig(text, 'mailgate.toml').config, silentLogger);
    chain.dispose();
  });
});
