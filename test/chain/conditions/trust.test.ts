import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APPLY } from '../../../src/chain/condition.js';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import { parseConfig } from '../../../src/config/load.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import { silentLogger } from '../../../src/mail/logger.js';
import { context } from '../../milter/helpers.js';
import { createTrust, DEFAULT_TRUSTED_DOMAINS, loadTrustDomains, senderDomain } from '../../../src/chain/conditions/trust.js';
import { ctx } from './helpers.js';

const TRUSTED = { stop: false, macros: { '{trusted_domain}': 'yes' } };
const mail = (sender: string | undefined) => ctx(sender === undefined ? {} : { sender });

describe('Trust', () => {
  const trust = createTrust();

  it('acts at MAIL only, under its milter-manager name', () => {
    expect(trust.name).toBe('Trust');
    expect([...trust.stages]).toEqual(['mail']);
    expect(trust.check('connect', mail('<a@gmail.com>'))).toBe(APPLY);
  });

  it('trusts the default domains', () => {
    expect(DEFAULT_TRUSTED_DOMAINS).toEqual([
      'gmail.com',
      'hotmail.com',
      'msn.com',
      'yahoo.co.jp',
      'softbank.ne.jp',
      'ezweb.ne.jp',
      'docomo.ne.jp',
      'clear-code.com',
    ]);
    for (const d of DEFAULT_TRUSTED_DOMAINS) expect(trust.check('mail', mail(`<user@${d}>`))).toEqual(TRUSTED);
  });

  it.each([
    ['<Alice@GMail.COM>', true],
    ['alice@gmail.com', true],
    [' <alice@gmail.com> ', true],
    ['<alice@gmail.com.>', true],
    ['<"a@b"@gmail.com>', true],
    ['<@relay.example:alice@gmail.com>', true],
    ['<>', false],
    ['', false],
    [undefined, false],
    ['<postmaster>', false],
    ['<alice@>', false],
    ['<alice@mail.gmail.com>', false],
    ['<alice@gmail.com.evil.example>', false],
    ['<alice@gmail.co>', false],
    ['<alice@example.com>', false],
  ])('%j trusted=%s', (sender, expected) => {
    const v = trust.check('mail', mail(sender));
    expect(v.stop).toBe(false);
    expect(v).toEqual(expected ? TRUSTED : APPLY);
  });

  it.each([
    ['<u@Example.COM>', 'example.com'],
    ['u@example.com', 'example.com'],
    ['<>', undefined],
    ['<u>', undefined],
    ['<@example.com>', undefined],
  ])('senderDomain(%j) = %j', (sender, domain) => {
    expect(senderDomain(sender)).toBe(domain);
  });

  it('adds user domains to the defaults: strings exactly and case-insensitively, regexps tested', () => {
    const t = createTrust({ domains: ['Example.ORG', /(^|\.)example\.net$/] });
    expect(t.check('mail', mail('<a@example.org>'))).toEqual(TRUSTED);
    expect(t.check('mail', mail('<a@sub.example.org>'))).toBe(APPLY);
    expect(t.check('mail', mail('<a@EXAMPLE.net>'))).toEqual(TRUSTED);
    expect(t.check('mail', mail('<a@mx.example.net>'))).toEqual(TRUSTED);
    expect(t.check('mail', mail('<a@notexample.net>'))).toBe(APPLY);
    expect(t.check('mail', mail('<a@gmail.com>'))).toEqual(TRUSTED);
  });

  it('replaces the defaults when asked', () => {
    const t = createTrust({ domains: ['example.org'], replaceDefaults: true });
    expect(t.check('mail', mail('<a@gmail.com>'))).toBe(APPLY);
    expect(t.check('mail', mail('<a@example.org>'))).toEqual(TRUSTED);
    expect(createTrust({ replaceDefaults: true }).check('mail', mail('<a@gmail.com>'))).toBe(APPLY);
  });

  it('gives the same answer every time for g regexps', () => {
    const t = createTrust({ domains: [/example\.org$/g], replaceDefaults: true });
    for (let i = 0; i < 3; i++) expect(t.check('mail', mail('<a@example.org>'))).toEqual(TRUSTED);
  });
});

describe('loadTrustDomains', () => {
  it('reads domains, /regex/ lines, comments and blank lines', () => {
    const list = loadTrustDomains(
      [
        '# trusted senders',
        '',
        '  Example.COM  ',
        'example.net   # a trailing comment',
        '/\\.example\\.org$/',
        '  /^mail\\d+\\.example\\.jp$/u  ',
        '\t# indented comment',
        'last.example\r',
        '',
      ].join('\n'),
    );
    expect(list).toEqual(['example.com', 'example.net', /\.example\.org$/i, /^mail\d+\.example\.jp$/iu, 'last.example']);
  });

  it('makes regexps case-insensitive as milter-manager does, and they work in Trust', () => {
    const list = loadTrustDomains('/^Example\\.ORG$/\n');
    const t = createTrust({ domains: list, replaceDefaults: true });
    expect(t.check('mail', ctx({ sender: '<a@example.org>' }))).toEqual(TRUSTED);
  });

  it('handles CRLF and an empty file', () => {
    expect(loadTrustDomains('a.example\r\nb.example\r\n')).toEqual(['a.example', 'b.example']);
    expect(loadTrustDomains('')).toEqual([]);
    expect(loadTrustDomains('# only\n\n')).toEqual([]);
  });

  it.each([
    ['example.com\n/[/\n', /^line 2: invalid regex \/\[\/: /],
    ['/abc/q\n', /^line 1: invalid regex \/abc\/q: /],
    ['\n\nexample.com extra\n', /^line 3: expected a domain or \/regex\/, got "example.com extra"/],
    ['/unterminated\n', /^line 1: expected a domain or \/regex\//],
    ['user@example.com\n', /^line 1: expected a domain/],
  ])('reports bad lines with their number: %j', (text, message) => {
    expect(() => loadTrustDomains(text)).toThrow(message);
  });
});

describe('Trust with [trust] domains_file, as the chain is built from mailgate.toml', () => {
  // A greylist child that whitelists on {trusted_domain}=yes alone (no SPF): what Trust set decides.
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-trust-chain-'));
  writeFileSync(join(dir, 'trusted.txt'), '# partners\nPartner.example\n');
  const toml = `[trust]\nreplace_defaults = true\ndomains_file = "trusted.txt"\n\n[[milter]]\nname = "greylist"\nbuiltin = "greylist"\nstore = "memory"\napplicable_conditions = ["Trust"]\nconf_text = """\nsm_macro "t" "{trusted_domain}" "yes"\nracl whitelist sm_macro "t"\nracl greylist default\n"""\n`;

  async function rcptStatus(sender: string): Promise<string> {
    const chain = chainFromConfig(parseConfig(toml, join(dir, 'mailgate.toml')).config, silentLogger);
    const s = chain.open();
    const c = context();
    await s.negotiate(FULL_OFFER);
    await s.connect({ hostname: 'client.example', family: 'inet', address: '192.0.2.1', port: 1 }, c);
    await s.helo('client.example', c);
    await s.mail(sender, [], c);
    const reply = await s.rcpt('<rcpt@example.org>', [], c);
    await s.close();
    await chain.dispose();
    return reply.status;
  }

  it('a domain of the file is trusted; another is not', async () => {
    expect(await rcptStatus('<a@partner.example>')).toBe('continue');
    expect(await rcptStatus('<a@other.example>')).toBe('tempfail');
  });
});
