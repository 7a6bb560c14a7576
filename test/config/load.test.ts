import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, defaultMtaConfig } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { embeddedDefaults, loadConfig, parseConfig } from '../../src/config/load.js';
import type { MailgateConfig } from '../../src/config/schema.js';
import { DELIVERY_KEYS } from '../../src/config/sections/delivery.js';
import { DOMAINS_KEYS } from '../../src/config/sections/domains.js';
import { QUEUE_KEYS } from '../../src/config/sections/queue.js';
import { SMTP_KEYS } from '../../src/config/sections/smtp.js';
import { SUBMISSION_KEYS } from '../../src/config/sections/submission.js';
import { POP3_KEYS } from '../../src/config/sections/pop3.js';
import { IMAP_KEYS } from '../../src/config/sections/imap.js';
import { MAILBOX_KEYS } from '../../src/config/sections/mailbox.js';
import { TLS_KEYS } from '../../src/config/sections/tls.js';
import { EXAMPLE, TRUST_DIR, TRUSTED_DOMAINS, TRUSTED_DOMAINS_FILE } from './fixtures.js';

/** The MTA's keys (hostname, [smtp] ... [delivery]) when the file sets none of them. */
const MTA_DEFAULT_ORIGINS = Object.fromEntries(
  [
    'hostname',
    ...SMTP_KEYS.map((k) => `smtp.${k}`),
    ...SUBMISSION_KEYS.map((k) => `submission.${k}`),
    ...IMAP_KEYS.map((k) => `imap.${k}`),
    ...POP3_KEYS.map((k) => `pop3.${k}`),
    ...MAILBOX_KEYS.map((k) => `mailbox.${k}`),
    ...TLS_KEYS.map((k) => `tls.${k}`),
    ...DOMAINS_KEYS.map((k) => `domains.${k}`),
    ...QUEUE_KEYS.map((k) => `queue.${k}`),
    ...DELIVERY_KEYS.map((k) => `delivery.${k}`),
  ].map((k) => [k, 'default']),
);

describe('parseConfig: the example from the issue', () => {
  const loaded = parseConfig(EXAMPLE, '/etc/mailgate/mailgate.toml');

  it('loads with exact values', () => {
    const expected: MailgateConfig = {
      ...defaultMtaConfig(),
      dataDir: '/etc/mailgate/data',
      manager: {
        connectionSpec: 'unix:/run/mailgate/milter.sock',
        unixSocketMode: 0o660,
        unixSocketGroup: 'postfix',
        fallbackStatus: 'accept',
        maxConnections: 0,
        mtaTimeout: 600,
        detect: false,
        dnsServers: [],
      },
      milters: [
        {
          name: 'opendkim',
          connectionSpec: 'unix:/run/opendkim/opendkim.sock',
          enabled: true,
          fallbackStatus: 'accept',
          evaluationMode: false,
          applicableConditions: ['Remote Network', 'Unauthenticated'],
          timeouts: { connection: 297, writing: 7, reading: 7, endOfMessage: 297 },
        },
      ],
      conditions: [],
      s25r: { whitelist: [], blacklist: [], checkOnlyIpv4: true },
      remoteNetwork: { localAddresses: [], remoteAddresses: [] },
      trust: { domains: [], replaceDefaults: false },
      stress: {},
    };
    expect(loaded.config).toStrictEqual(expected);
    expect(loaded.file).toBe('/etc/mailgate/mailgate.toml');
  });

  it('records the file and line of every value given, and default for the rest', () => {
    const f = '/etc/mailgate/mailgate.toml';
    expect(Object.fromEntries(loaded.origins)).toStrictEqual({
      data_dir: 'default',
      ...MTA_DEFAULT_ORIGINS,
      'manager.connection_spec': `${f}:2`,
      'manager.unix_socket_mode': `${f}:3`,
      'manager.unix_socket_group': `${f}:4`,
      'manager.fallback_status': `${f}:5`,
      'manager.max_connections': 'default',
      'manager.mta_timeout': 'default',
      'manager.detect': 'default',
      'manager.data_dir': 'default',
      'manager.dns_servers': 'default',
      'milter.opendkim': `${f}:7`,
      'milter.opendkim.name': `${f}:8`,
      'milter.opendkim.description': 'default',
      'milter.opendkim.connection_spec': `${f}:9`,
      'milter.opendkim.builtin': 'default',
      'milter.opendkim.enabled': `${f}:10`,
      'milter.opendkim.fallback_status': `${f}:11`,
      'milter.opendkim.evaluation_mode': `${f}:12`,
      'milter.opendkim.applicable_conditions': `${f}:13`,
      'milter.opendkim.connection_timeout': `${f}:14`,
      'milter.opendkim.writing_timeout': `${f}:15`,
      'milter.opendkim.reading_timeout': `${f}:16`,
      'milter.opendkim.end_of_message_timeout': `${f}:17`,
      's25r.whitelist': 'default',
      's25r.blacklist': 'default',
      's25r.check_only_ipv4': 'default',
      'remote_network.local_addresses': 'default',
      'remote_network.remote_addresses': 'default',
      'trust.domains': 'default',
      'trust.replace_defaults': 'default',
      'trust.domains_file': 'default',
      'stress.threshold': 'default',
    });
  });
});

describe('parseConfig: every section', () => {
  const text = `[manager]
connection_spec = "inet6:10025@[::1]"
unix_socket_group = 125
fallback_status = "tempfail"
max_connections = 200
detect = true

[[condition]]
name = "Submission"
description = "authenticated senders on the submission port"
field = "macro"
macro = "{daemon_port}"
pattern = "^587$"
action = "skip"

[[condition]]
name = "Internal HELO"
field = "helo"
pattern = "\\\\.internal$"
flags = "i"
action = "apply"

[[milter]]
name = "greylist"
builtin = "greylist"
conf_text = "greylist 10m"
description = "built-in greylisting"
fallback_status = "temporary-failure"
evaluation_mode = true
enabled = false
applicable_conditions = [
  "s25r",               # case-insensitive
  "remote network",
  "submission",
  "Internal HELO",
]
reading_timeout = 2.5

[[milter]]
name = "spamass"
connection_spec = "inet:783@localhost"

[s25r]
whitelist = ["mail.example.com", "/\\\\.example\\\\.net$/i"]
blacklist = ["/^dyn-/"]
check_only_ipv4 = false

[remote_network]
local_addresses = ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]
remote_addresses = ["10.9.0.0/16"]

[trust]
domains = ["example.org", "/^mail\\\\./"]
replace_defaults = true
domains_file = "trusted-domains.txt"

[stress]
threshold = 0
`;
  // domains_file is relative: read from TRUST_DIR
  const loaded = parseConfig(text, '/etc/mailgate/mailgate.toml', { baseDir: TRUST_DIR });
  const c = loaded.config;

  it('reads the manager, with a numeric group as a string', () => {
    expect(c.manager).toStrictEqual({
      connectionSpec: 'inet6:10025@[::1]',
      unixSocketMode: 0o660,
      unixSocketGroup: '125',
      fallbackStatus: 'tempfail',
      maxConnections: 200,
      mtaTimeout: 600,
      detect: true,
      dnsServers: [],
    });
  });

  it('reads conditions', () => {
    expect(c.conditions).toStrictEqual([
      {
        name: 'Submission',
        description: 'authenticated senders on the submission port',
        field: 'macro',
        macro: '{daemon_port}',
        pattern: '^587$',
        flags: '',
        action: 'skip',
      },
      { name: 'Internal HELO', field: 'helo', pattern: '\\.internal$', flags: 'i', action: 'apply' },
    ]);
  });

  it('reads built-in and remote children, condition names canonicalised, "temporary-failure" read as tempfail', () => {
    expect(c.milters).toStrictEqual([
      {
        name: 'greylist',
        builtin: 'greylist',
        options: expect.anything(),
        optionsTable: { conf_text: 'greylist 10m' },
        description: 'built-in greylisting',
        enabled: false,
        fallbackStatus: 'tempfail',
        evaluationMode: true,
        applicableConditions: ['S25R', 'Remote Network', 'Submission', 'Internal HELO'],
        timeouts: { connection: 297, writing: 7, reading: 2.5, endOfMessage: 297 },
      },
      {
        name: 'spamass',
        connectionSpec: 'inet:783@localhost',
        enabled: true,
        fallbackStatus: 'accept',
        evaluationMode: false,
        applicableConditions: [],
        timeouts: { connection: 297, writing: 7, reading: 7, endOfMessage: 297 },
      },
    ]);
  });

  it('reads the condition option tables; /re/flags strings become RegExps', () => {
    expect(c.s25r).toStrictEqual({ whitelist: ['mail.example.com', /\.example\.net$/i], blacklist: [/^dyn-/], checkOnlyIpv4: false });
    expect(c.remoteNetwork).toStrictEqual({
      localAddresses: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'],
      remoteAddresses: ['10.9.0.0/16'],
    });
    expect(c.trust).toStrictEqual({
      domains: ['example.org', /^mail\./],
      replaceDefaults: true,
      domainsFile: TRUSTED_DOMAINS_FILE,
      fileDomains: TRUSTED_DOMAINS,
    });
    expect(c.stress).toStrictEqual({ threshold: 0 });
  });

  it('records origins of conditions and option tables', () => {
    const o = (k: string) => loaded.origins.get(k);
    expect(o('condition.Submission')).toBe('/etc/mailgate/mailgate.toml:8');
    expect(o('condition.Submission.macro')).toBe('/etc/mailgate/mailgate.toml:12');
    expect(o('condition.Internal HELO.flags')).toBe('/etc/mailgate/mailgate.toml:20');
    expect(o('condition.Internal HELO.description')).toBe('default');
    expect(o('milter.greylist.applicable_conditions')).toBe('/etc/mailgate/mailgate.toml:31');
    expect(o('milter.spamass.reading_timeout')).toBe('default');
    expect(o('s25r.check_only_ipv4')).toBe('/etc/mailgate/mailgate.toml:46');
    expect(o('stress.threshold')).toBe('/etc/mailgate/mailgate.toml:58');
  });
});

describe('parseConfig: other TOML spellings', () => {
  it('accepts dotted keys, quoted keys and inline tables', () => {
    const loaded = parseConfig(
      [
        'manager.connection_spec = "unix:/tmp/a.sock"',
        '"manager".unix_socket_mode = "0600"',
        'stress = { threshold = 5 }',
        '[[milter]]',
        "'name' = 'x'",
        'connection_spec = "inet:1@[127.0.0.1]"',
      ].join('\n'),
      'm.toml',
    );
    expect(loaded.config.manager.connectionSpec).toBe('unix:/tmp/a.sock');
    expect(loaded.config.manager.unixSocketMode).toBe(0o600);
    expect(loaded.config.stress.threshold).toBe(5);
    expect(loaded.config.milters[0]?.name).toBe('x');
    expect(loaded.origins.get('manager.connection_spec')).toBe('m.toml:1');
    expect(loaded.origins.get('manager.unix_socket_mode')).toBe('m.toml:2');
    expect(loaded.origins.get('stress.threshold')).toBe('m.toml:3');
    expect(loaded.origins.get('milter.x.name')).toBe('m.toml:5');
  });

  it('accepts an empty file: all defaults, but the file is named', () => {
    const loaded = parseConfig('', 'empty.toml');
    expect(loaded.config).toStrictEqual({ ...defaultConfig(), dataDir: resolve('data') });
    expect(loaded.file).toBe('empty.toml');
    expect(loaded.origins.get('manager.connection_spec')).toBe('default');
  });

  it('accepts a byte order mark', () => {
    expect(parseConfig('\ufeff[manager]\nmax_connections = 3\n', 'b.toml').origins.get('manager.max_connections')).toBe('b.toml:2');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-config-'));

  it('without a file and without ./mailgate.toml: the embedded defaults', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const loaded = loadConfig(undefined, { cwd: empty });
    expect(loaded).toStrictEqual(embeddedDefaults(empty));
    expect(loaded.file).toBeUndefined();
    expect(loaded.config.manager).toStrictEqual({
      connectionSpec: 'inet:10025@[127.0.0.1]',
      unixSocketMode: 0o660,
      fallbackStatus: 'accept',
      maxConnections: 0,
      mtaTimeout: 600,
      detect: false,
      dnsServers: [],
    });
    // no file: relative to the current directory
    expect(loaded.config.dataDir).toBe(join(empty, 'data'));
    expect(loaded.config.milters).toStrictEqual([]);
  });

  it('without a file: ./mailgate.toml when present', () => {
    const here = join(dir, 'here');
    mkdirSync(here);
    writeFileSync(join(here, 'mailgate.toml'), EXAMPLE);
    const loaded = loadConfig(undefined, { cwd: here });
    expect(loaded.file).toBe('mailgate.toml');
    expect(loaded.origins.get('manager.unix_socket_group')).toBe('mailgate.toml:4');
  });

  it('reads the given file; a relative domains_file is resolved against its directory', () => {
    const file = join(dir, 'given.toml');
    writeFileSync(file, '[trust]\ndomains_file = "domains.txt"\n');
    writeFileSync(join(dir, 'domains.txt'), 'friends.example\n');
    const loaded = loadConfig(file);
    expect(loaded.config.trust.domainsFile).toBe(join(dir, 'domains.txt'));
    expect(loaded.config.trust.fileDomains).toStrictEqual(['friends.example']);
    expect(loaded.origins.get('trust.domains_file')).toBe(`${file}:2`);
  });

  it('a missing file is a ConfigError naming it', () => {
    const missing = join(dir, 'missing.toml');
    expect(() => loadConfig(missing)).toThrow(ConfigError);
    expect(() => loadConfig(missing)).toThrow(`${missing}: cannot read the configuration file: no such file`);
  });

  it('a directory is a ConfigError naming it', () => {
    expect(() => loadConfig(dir)).toThrow(`${dir}: cannot read the configuration file: is a directory`);
  });
});
