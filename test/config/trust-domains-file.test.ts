/** [trust] domains_file: read with the configuration (so again at every reload), errors with file:line. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainFromConfig, ChainSetupError } from '../../src/chain/from-config.js';
import { formatConfig } from '../../src/config/format.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/mail/logger.js';
import { configError } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-domains-file-'));
const toml = (file: string): string => `[trust]\nreplace_defaults = true\ndomains_file = ${JSON.stringify(file)}\n`;

describe('[trust] domains_file', () => {
  it('one domain per line, # comments and blank lines ignored, /regex/ lines; relative to the configuration file', () => {
    writeFileSync(join(dir, 'friends.txt'), '# our partners\n\nPartner.EXAMPLE\nother.example   # since 2026\n/(^|\\.)group\\.example$/\n');
    const { config } = parseConfig(toml('friends.txt'), join(dir, 'mailgate.toml'));
    expect(config.trust).toStrictEqual({
      domains: [],
      replaceDefaults: true,
      domainsFile: join(dir, 'friends.txt'),
      fileDomains: ['partner.example', 'other.example', /(^|\.)group\.example$/i],
    });
  });

  it('a missing file: an error at the line of domains_file, naming the file', () => {
    const e = configError(toml('absent.txt'), join(dir, 'mailgate.toml'));
    expect(e.message).toBe(`${join(dir, 'mailgate.toml')}:3: trust.domains_file: cannot read ${join(dir, 'absent.txt')}: no such file`);
  });

  it('a directory: an error naming it', () => {
    mkdirSync(join(dir, 'a-dir'), { recursive: true });
    expect(configError(toml('a-dir'), join(dir, 'mailgate.toml')).message).toMatch(/:3: trust\.domains_file: cannot read .*a-dir: is a directory$/);
  });

  it('a bad line: an error at that file\'s own line', () => {
    writeFileSync(join(dir, 'bad.txt'), 'ok.example\n\nuser@example.com\n');
    const e = configError(toml('bad.txt'), join(dir, 'mailgate.toml'));
    expect(e.message).toBe(`${join(dir, 'bad.txt')}:3: trust.domains_file: expected a domain or /regex/, got "user@example.com"`);
    expect([e.file, e.line]).toStrictEqual([join(dir, 'bad.txt'), 3]);
  });

  it('readTrustDomainsFile: false (a command that needs no trust list): a missing file stops nothing; it is named, not read', () => {
    const file = join(dir, 'mailgate.toml');
    writeFileSync(file, toml('absent.txt'));
    for (const loaded of [parseConfig(toml('absent.txt'), file, { readTrustDomainsFile: false }), loadConfig(file, { readTrustDomainsFile: false })]) {
      expect(loaded.config.trust).toStrictEqual({ domains: [], replaceDefaults: true, domainsFile: join(dir, 'absent.txt') });
      // Such a configuration cannot build a chain that would trust less than configured, in silence.
      expect(() => chainFromConfig(loaded.config, silentLogger)).toThrow(ChainSetupError);
    }
    // By default (the manager, show-config) the file is read, and its absence is an error at its line.
    expect(() => loadConfig(file)).toThrow(`${file}:3: trust.domains_file: cannot read ${join(dir, 'absent.txt')}: no such file`);
  });

  it('show-config prints the file and how many domains it held', () => {
    writeFileSync(join(dir, 'two.txt'), 'a.example\nb.example\n');
    const out = formatConfig(parseConfig(toml('two.txt'), join(dir, 'mailgate.toml')));
    expect(out).toContain(`domains_file = ${JSON.stringify(join(dir, 'two.txt'))}\n# 2 trusted domains read from it\n`);
  });
});
