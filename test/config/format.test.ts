import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { showConfigCommand } from '../../src/cli/show-config.js';
import { formatConfig } from '../../src/config/format.js';
import { embeddedDefaults, parseConfig } from '../../src/config/load.js';
import { applyOverrides } from '../../src/config/overrides.js';
import type { MailgateConfig } from '../../src/config/schema.js';
import { EXAMPLE, TRUSTED_DOMAINS_FILE } from './fixtures.js';

const FULL = `${EXAMPLE}
[[milter]]
name = "greylist"
builtin = "greylist"
conf_text = "greylist 10m"
description = "built-in \\"greylisting\\"\\tand more"
fallback_status = "tempfail"
applicable_conditions = ["s25r", "Submission"]
reading_timeout = 2.5

[[condition]]
name = "Submission"
field = "macro"
macro = "{daemon_port}"
pattern = "^587$"
action = "skip"

[[condition]]
name = "Odd"
description = "control\\u0001 and unicode é"
field = "sender"
pattern = "\\\\.(example|test)$"
flags = "iu"
action = "apply"

[s25r]
whitelist = ["mail.example.com", "/\\\\.example\\\\.net$/i", "/a\\\\/b/"]
check_only_ipv4 = false

[remote_network]
local_addresses = ["192.0.2.0/24", "2001:db8::/32"]

[trust]
domains = ["example.org"]
replace_defaults = true
domains_file = ${JSON.stringify(TRUSTED_DOMAINS_FILE)}

[stress]
threshold = 12
`;

/** The config minus where inline texts sit in their file (greylist conf_text), which printing moves. */
function withoutTextLocations(config: MailgateConfig): unknown {
  return {
    ...config,
    milters: config.milters.map((m) => (m.builtin === 'greylist' ? { ...m, options: { ...m.options, conf: { text: m.options.conf.text } } } : m)),
  };
}

describe('formatConfig', () => {
  it('prints every item with its origin, as in show-config', () => {
    const loaded = parseConfig(EXAMPLE, '/etc/mailgate/mailgate.toml');
    const out = formatConfig(loaded);
    expect(out).toContain(
      [
        '[manager]',
        '# /etc/mailgate/mailgate.toml:2',
        'connection_spec = "unix:/run/mailgate/milter.sock"',
        '# /etc/mailgate/mailgate.toml:3',
        'unix_socket_mode = "0660"',
        '# /etc/mailgate/mailgate.toml:4',
        'unix_socket_group = "postfix"',
        '# /etc/mailgate/mailgate.toml:5',
        'fallback_status = "accept"',
        '# default',
        'max_connections = 0',
        '# default',
        'mta_timeout = 600',
        '# default',
        'detect = false',
      ].join('\n'),
    );
    expect(out).toContain(
      [
        '# milter "opendkim": /etc/mailgate/mailgate.toml:7',
        '[[milter]]',
        '# /etc/mailgate/mailgate.toml:8',
        'name = "opendkim"',
        '# default',
        '# description is not set',
        '# /etc/mailgate/mailgate.toml:9',
        'connection_spec = "unix:/run/opendkim/opendkim.sock"',
      ].join('\n'),
    );
    expect(out).toContain('# /etc/mailgate/mailgate.toml:13\napplicable_conditions = ["Remote Network", "Unauthenticated"]');
    expect(out).toContain('# /etc/mailgate/mailgate.toml:17\nend_of_message_timeout = 297');
    expect(out).toContain('[s25r]\n# default\nwhitelist = []\n# default\nblacklist = []\n# default\ncheck_only_ipv4 = true');
    expect(out).toContain('[stress]\n# default\n# threshold is not set\n');
    // every non-comment, non-blank line is a header or key = value: no stray text
    for (const line of out.split('\n')) expect(line).toMatch(/^(#.*|\[{1,2}[a-z0-9_]+\]{1,2}|[a-z0-9_]+ = .+|)$/);
  });

  it('prints the embedded defaults', () => {
    const out = formatConfig(embeddedDefaults());
    expect(out).toMatch(/^# Mailgate effective configuration \(embedded defaults: no mailgate\.toml\)\./);
    expect(out).toContain('[manager]\n# default\nconnection_spec = "inet:10025@[127.0.0.1]"\n# default\nunix_socket_mode = "0660"\n# default\n# unix_socket_group is not set');
    expect(out).toContain('# no [[milter]] children');
    expect(parseConfig(out, 'printed.toml').config).toStrictEqual(embeddedDefaults().config);
  });

  it('marks command-line values', () => {
    const loaded = applyOverrides(parseConfig(EXAMPLE, 'm.toml'), { unixSocketMode: '0600' });
    expect(formatConfig(loaded)).toContain('# command line\nunix_socket_mode = "0600"');
  });

  it.each([
    ['the example', EXAMPLE],
    ['every section', FULL],
    ['no file', ''],
  ])('round trip: %s parses back to an equal config', (_what, text) => {
    const loaded = parseConfig(text, '/etc/mailgate/mailgate.toml');
    const printed = formatConfig(loaded);
    expect(() => parse(printed)).not.toThrow();
    const again = parseConfig(printed, '/tmp/printed.toml');
    expect(withoutTextLocations(again.config)).toStrictEqual(withoutTextLocations(loaded.config));
    // and printing is stable
    expect(formatConfig({ ...again, origins: loaded.origins, file: loaded.file })).toBe(printed);
  });

  it('round trip keeps RegExps and escapes', () => {
    const loaded = parseConfig(FULL, 'm.toml');
    const again = parseConfig(formatConfig(loaded), 'p.toml').config;
    expect(again.s25r.whitelist).toStrictEqual(['mail.example.com', /\.example\.net$/i, /a\/b/]);
    expect(again.conditions[1]?.description).toBe('control\u0001 and unicode é');
    expect(again.milters[1]?.description).toBe('built-in "greylisting"\tand more');
  });
});

describe('mailgate show-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-show-config-'));
  let stdout = '';
  let stderr = '';

  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function run(args: string[]): Promise<void> {
    stdout = '';
    stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    await showConfigCommand().exitOverride().parseAsync(args, { from: 'user' });
  }

  it('prints the file with origins', async () => {
    const file = join(dir, 'ok.toml');
    writeFileSync(file, EXAMPLE);
    await run(['--config', file]);
    expect(process.exitCode).toBeUndefined();
    expect(stderr).toBe('');
    expect(stdout).toContain(`# ${file}:4\nunix_socket_group = "postfix"`);
    expect(parseConfig(stdout, 'x.toml').config).toStrictEqual(parseConfig(EXAMPLE, file).config);
  });

  it('prints one line file:line: key: message and exits 2 on a bad file', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, EXAMPLE.replace('fallback_status = "accept"\nevaluation', 'fallback_status = "acept"\nevaluation'));
    await run(['-c', file]);
    expect(process.exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `${file}:11: milter "opendkim".fallback_status: "acept" is not one of accept, tempfail, reject, discard; did you mean accept?\n`,
    );
  });

  it('prints a deprecation warning on stderr, once, and the configuration on stdout', async () => {
    const file = join(dir, 'old-data-dir.toml');
    writeFileSync(file, '[manager]\ndata_dir = "state"\n');
    await run(['-c', file]);
    expect(process.exitCode).toBeUndefined();
    expect(stderr).toBe(`mailgate: warning: ${file}:2: manager.data_dir: deprecated; write data_dir at the top level of the file, before any [table]\n`);
    expect(stdout).toContain(`# ${file}:2\ndata_dir = ${JSON.stringify(join(dir, 'state'))}\n`);
  });

  it('exits 2 on a missing file', async () => {
    await run(['--config', join(dir, 'missing.toml')]);
    expect(process.exitCode).toBe(2);
    expect(stderr).toBe(`${join(dir, 'missing.toml')}: cannot read the configuration file: no such file\n`);
  });
});
