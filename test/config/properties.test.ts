/**
 * Properties: parseConfig throws nothing but ConfigError (and never an internal error) on arbitrary text,
 * on mutated valid files and on well-formed TOML with wrong values; every error after a successful TOML
 * parse has a line; and any valid configuration printed by formatConfig parses back to itself.
 */
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { BUILTIN_CONDITIONS } from '../../src/config/condition-names.js';
import { ConfigError } from '../../src/config/errors.js';
import { formatConfig } from '../../src/config/format.js';
import { parseConfig } from '../../src/config/load.js';
import type { LoadedConfig } from '../../src/config/origin.js';
import { parseRelayHost } from '../../src/config/relay-host.js';
import type { FallbackStatus, MailgateConfig, MilterConfig, RelayHost, TextPattern, UserConditionConfig } from '../../src/config/schema.js';
import { CONDITION_KEYS } from '../../src/config/sections/condition.js';
import { MANAGER_KEYS } from '../../src/config/sections/manager.js';
import { MILTER_KEYS } from '../../src/config/sections/milter.js';
import { REMOTE_NETWORK_KEYS, S25R_KEYS, STRESS_KEYS, TRUST_KEYS } from '../../src/config/sections/options.js';
import type { RulesOptions } from '../../src/config/builtins/index.js';
import { MAX_TIMER_SECONDS } from '../../src/config/timer-limit.js';
import { EXAMPLE, TRUSTED_DOMAINS, TRUSTED_DOMAINS_FILE } from './fixtures.js';

/** Runs parseConfig; fails unless it returns or throws a ConfigError that is not an internal error. */
function parsesOrConfigError(text: string): ConfigError | undefined {
  try {
    parseConfig(text, 'fuzz.toml');
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(err)}`);
    if (err.reason.startsWith('internal error')) throw new Error(err.message);
    expect(err.file).toBe('fuzz.toml');
    expect(err.message).not.toContain('\n');
    return err;
  }
}

const RICH = `${EXAMPLE}
[[milter]]
name = "g"
builtin = "greylist"
applicable_conditions = ["S25R", "Mine"]

[[condition]]
name = "Mine"
field = "macro"
macro = "{auth_type}"
pattern = "^(plain|login)$"
flags = "i"
action = "skip"

[s25r]
whitelist = ["a.example", "/b$/i"]

[remote_network]
local_addresses = ["10.0.0.0/8", "fd00::/8"]

[trust]
domains = ["example.org"]

[stress]
threshold = 3
`;

const FRAGMENTS = ['[', ']', '[[', ']]', '"', "'", '"""', '=', ',', '.', '#', '\n', '{', '}', ' ', 'milter', 'manager', '0660', 'true', '-1', 'inf', '"x"', '1.5', '\\'];

describe('parseConfig throws only ConfigError', () => {
  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        parsesOrConfigError(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('on mutated valid files', () => {
    const mutation = fc.oneof(
      // delete a range
      fc.record({ at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }).map(({ at, len }) => (s: string) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + s.slice(i + len);
      }),
      // insert a TOML-significant fragment or random text
      fc
        .record({ at: fc.nat(), text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 5 })) })
        .map(({ at, text }) => (s: string) => {
          const i = at % (s.length + 1);
          return s.slice(0, i) + text + s.slice(i);
        }),
      // swap, duplicate or drop whole lines
      fc.record({ a: fc.nat(), b: fc.nat(), op: fc.constantFrom('swap', 'dup', 'drop') }).map(({ a, b, op }) => (s: string) => {
        const lines = s.split('\n');
        const i = a % lines.length;
        const j = b % lines.length;
        const li = lines[i] ?? '';
        if (op === 'swap') {
          lines[i] = lines[j] ?? '';
          lines[j] = li;
        } else if (op === 'dup') lines.splice(j, 0, li);
        else lines.splice(i, 1);
        return lines.join('\n');
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom<string>(EXAMPLE, RICH), fc.array(mutation, { minLength: 1, maxLength: 4 }), (base, mutations) => {
        parsesOrConfigError(mutations.reduce<string>((s, m) => m(s), base));
      }),
      { numRuns: 3000 },
    );
  });

  it('on well-formed TOML with arbitrary values, and every such error has a line', () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.integer({ min: -5, max: 100000 }),
      fc.double(),
      fc.boolean(),
      fc.constantFrom(
        'accept', 'tempfail', 'reject', 'unix:/tmp/x.sock', 'inet:10025', 'inet:x', '0660', '999', 'S25R', 'trust', 'Mine',
        'host', 'macro', 'apply', 'skip', '/re/i', '/(/', '10.0.0.0/8', '10.0.0.0/99', '', 'greylist',
      ),
    );
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'name'), scalar, { maxKeys: 2 }));
    const table = (keys: readonly string[]) => fc.dictionary(fc.constantFrom(...keys, 'bogus'), value, { maxKeys: keys.length + 1 });
    const doc = fc.record(
      {
        manager: table(MANAGER_KEYS),
        milter: fc.array(table(MILTER_KEYS), { maxLength: 3 }),
        condition: fc.array(table(CONDITION_KEYS), { maxLength: 2 }),
        s25r: table(S25R_KEYS),
        remote_network: table(REMOTE_NETWORK_KEYS),
        trust: table(TRUST_KEYS),
        stress: table(STRESS_KEYS),
        managr: value,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(doc, (d) => {
        const text = stringify(d);
        const err = parsesOrConfigError(text);
        if (err !== undefined) {
          expect(err.line, err.message).toBeGreaterThanOrEqual(1);
          expect(err.key, err.message).toBeDefined();
        }
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- valid configurations, for the round trip ----

const NAME = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _.-]{0,11}$/);
const TEXT = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary-ascii', maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
const FLAGS = fc.subarray(['d', 'g', 'i', 'm', 's', 'u', 'y']).map((f) => f.join(''));
const compiles = (source: string, flags: string): boolean => {
  try {
    new RegExp(source, flags);
    return true;
  } catch {
    return false;
  }
};
const REGEXP = fc
  .record({ source: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('a/b', '^mail\\.', '\\d{3}', '[/]', '\\n')), flags: FLAGS })
  .filter(({ source, flags }) => compiles(source, flags))
  .map(({ source, flags }) => new RegExp(source, flags));
const LITERAL = fc.string({ minLength: 1, maxLength: 15 }).filter((s) => !/^\/.*\/[A-Za-z]*$/s.test(s));
const PATTERN: fc.Arbitrary<TextPattern> = fc.oneof(LITERAL, REGEXP);
const CIDR = fc.constantFrom('10.0.0.0/8', '192.0.2.1', '2001:db8::/32', '::1', 'fe80::/10', '0.0.0.0/0');
const SPEC = fc.oneof(
  fc.constantFrom('inet:10025@[127.0.0.1]', 'inet6:25@[::1]', 'inet:0', 'local:/x', 'inet:1@mail.example.com'),
  fc.stringMatching(/^\/[a-z0-9/._-]{1,20}$/).map((p) => `unix:${p}`),
);
const FALLBACK: fc.Arbitrary<FallbackStatus> = fc.constantFrom('accept', 'tempfail', 'reject', 'discard');
// Valid durations only: above MAX_TIMER_SECONDS the loader refuses them (a Node timer would fire at once).
const SECONDS = fc.oneof(fc.integer({ min: 1, max: 100000 }), fc.double({ min: 1e-9, max: MAX_TIMER_SECONDS, noNaN: true }).filter((n) => n > 0));

const CONDITIONS: fc.Arbitrary<UserConditionConfig[]> = fc
  .uniqueArray(NAME.map((n) => `c-${n}`), { maxLength: 3, selector: (n) => n.toLowerCase() })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc
          .record({
            description: fc.option(TEXT, { nil: undefined }),
            field: fc.constantFrom('host', 'address', 'helo', 'sender', 'recipient', 'macro') as fc.Arbitrary<UserConditionConfig['field']>,
            macro: fc.constantFrom('{auth_type}', 'i', 'daemon_port'),
            pattern: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('^a$', '\\.example$')),
            flags: FLAGS,
            action: fc.constantFrom('apply', 'skip') as fc.Arbitrary<UserConditionConfig['action']>,
          })
          .filter((c) => compiles(c.pattern, c.flags))
          .map(({ description, macro, ...c }) => ({
            name,
            ...(description === undefined ? {} : { description }),
            field: c.field,
            ...(c.field === 'macro' ? { macro } : {}),
            pattern: c.pattern,
            flags: c.flags,
            action: c.action,
          })),
      ),
    ),
  );

function milters(conditionNames: readonly string[]): fc.Arbitrary<MilterConfig[]> {
  const usable = [...BUILTIN_CONDITIONS, ...conditionNames];
  return fc.uniqueArray(NAME, { maxLength: 3 }).chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc
          .record({
            description: fc.option(TEXT, { nil: undefined }),
            remote: fc.boolean(),
            spec: SPEC,
            builtin: fc.constant('rules' as const),
            enabled: fc.boolean(),
            fallbackStatus: FALLBACK,
            evaluationMode: fc.boolean(),
            applicableConditions: fc.shuffledSubarray(usable),
            timeouts: fc.record({ connection: SECONDS, writing: SECONDS, reading: SECONDS, endOfMessage: SECONDS }),
          })
          .map(({ description, remote, spec, builtin, ...m }): MilterConfig => ({
            name,
            ...(description === undefined ? {} : { description }),
            ...m,
            ...(remote ? { connectionSpec: spec } : { builtin, options: RULES_DEFAULTS, optionsTable: {} }),
          })),
      ),
    ),
  );
}

// The rules filter's options when its table sets none (what a builtin child parses back to).
const RULES_DEFAULTS = (parseConfig('[[milter]]\nname = "r"\nbuiltin = "rules"\n', 'r.toml').config.milters[0] as { options: unknown }).options as RulesOptions;

const DATA_DIR = fc.stringMatching(/^\/var\/lib\/[a-z]{1,8}$/);
// Built once: constructing arbitraries (stringMatching especially) inside chain() costs ~10 ms a sample.
const MANAGER = fc
  .record({
    connectionSpec: SPEC,
    unixSocketMode: fc.integer({ min: 0, max: 0o7777 }),
    unixSocketGroup: fc.option(fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/), fc.nat().map(String)), { nil: undefined }),
    fallbackStatus: FALLBACK,
    maxConnections: fc.nat(),
    mtaTimeout: SECONDS,
    detect: fc.boolean(),
    dnsServers: fc.array(fc.constantFrom('127.0.0.1', '127.0.0.1:5353', '[::1]:53'), { maxLength: 2 }),
  })
  .map(({ unixSocketGroup, ...m }) => ({ ...m, ...(unixSocketGroup === undefined ? {} : { unixSocketGroup }) }));
const S25R = fc.record({ whitelist: fc.array(PATTERN, { maxLength: 3 }), blacklist: fc.array(PATTERN, { maxLength: 3 }), checkOnlyIpv4: fc.boolean() });
const REMOTE_NETWORK = fc.record({ localAddresses: fc.array(CIDR, { maxLength: 3 }), remoteAddresses: fc.array(CIDR, { maxLength: 3 }) });
const TRUST = fc
  .record({
    domains: fc.array(PATTERN, { maxLength: 3 }),
    replaceDefaults: fc.boolean(),
    // the file is read with the configuration: a real one, and what it holds
    domainsFile: fc.option(fc.constant(TRUSTED_DOMAINS_FILE), { nil: undefined }),
  })
  .map(({ domainsFile, ...t }) => ({ ...t, ...(domainsFile === undefined ? {} : { domainsFile, fileDomains: TRUSTED_DOMAINS }) }));
const STRESS = fc.option(fc.nat(), { nil: undefined }).map((threshold) => (threshold === undefined ? {} : { threshold }));

// The MTA's sections ([smtp] [submission] [tls] [domains] [queue] [delivery] and hostname).
const LISTEN = fc.uniqueArray(
  fc.record({ host: fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', '::', 'mail.example.org'), port: fc.integer({ min: 1, max: 65535 }) }),
  { maxLength: 3, selector: (a) => `${a.host}:${a.port}` },
);
const SECONDS_OR_ZERO = fc.oneof(fc.constant(0), SECONDS);
const MTA = fc.record({
  hostname: fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,7}[a-z0-9])?(\.[a-z][a-z0-9]{0,5}){0,2}$/),
  smtp: fc.record({
    listen: LISTEN,
    mynetworks: fc.array(CIDR, { maxLength: 3 }),
    messageSizeLimit: fc.nat(),
    recipientLimit: fc.integer({ min: 1, max: 1e6 }),
    clientConnectionLimit: fc.nat(),
    connectionLimit: fc.nat(),
    clientMessageRateLimit: fc.nat(),
    idleTimeout: SECONDS,
    sessionTimeout: SECONDS,
    xclientHosts: fc.array(CIDR, { maxLength: 3 }),
    authFailureLimit: fc.integer({ min: 1, max: 100 }),
    banner: fc.string({ maxLength: 20 }).filter((b) => !/[\r\n]/.test(b)),
  }),
  submission: fc.record({ listen: LISTEN, tlsListen: LISTEN }),
  imap: fc.record({
    listen: LISTEN,
    tlsListen: LISTEN,
    plaintextAuthNetworks: fc.array(CIDR, { maxLength: 3 }),
    connectionLimit: fc.nat(),
    clientConnectionLimit: fc.nat(),
    userConnectionLimit: fc.nat(),
    authFailureLimit: fc.integer({ min: 1, max: 100 }),
    loginTimeout: fc.integer({ min: 1, max: 3600 }),
    idleTimeout: fc.integer({ min: 1800, max: 86_400 }),
    idleKeepalive: fc.integer({ min: 1, max: 3600 }),
    appendLimit: fc.integer({ min: 1024, max: 2 ** 31 }),
    maxLineLength: fc.integer({ min: 8192, max: 2 ** 20 }),
    greeting: fc.string({ maxLength: 20 }).filter((g) => !/[\r\n[\]]/.test(g)),
  }),
  mailbox: fc.record({ quota: fc.nat(), quotaMessages: fc.nat() }),
  pop3: fc.record({
    listen: LISTEN,
    tlsListen: LISTEN,
    plaintextAuthNetworks: fc.array(CIDR, { maxLength: 3 }),
    connectionLimit: fc.nat(),
    clientConnectionLimit: fc.nat(),
    authFailureLimit: fc.integer({ min: 1, max: 100 }),
    idleTimeout: fc.integer({ min: 600, max: 86_400 }),
  }),
  tls: fc.constantFrom({}, { certFile: '/etc/ssl/mail.pem', keyFile: '/etc/ssl/private/mail.key' }),
  domains: fc.record({ local: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,6}(\.[a-z]{2,4})?$/), { maxLength: 3 }) }),
  queue: fc
    .record({
      backoff: fc.tuple(SECONDS, SECONDS).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
      maximalQueueLifetime: SECONDS_OR_ZERO,
      bounceQueueLifetime: SECONDS_OR_ZERO,
      delayWarningTime: SECONDS_OR_ZERO,
      queueRunDelay: SECONDS,
    })
    .map(({ backoff: [minimalBackoffTime, maximalBackoffTime], ...q }) => ({ minimalBackoffTime: minimalBackoffTime as number, maximalBackoffTime: maximalBackoffTime as number, ...q })),
  delivery: fc
    .record({
      relayHost: fc.option(fc.constantFrom('[smtp.example.net]:587', 'example.net', '[192.0.2.1]', '[2001:db8::1]:25', 'relay.example:2525'), { nil: undefined }),
      destinationConcurrencyLimit: fc.integer({ min: 1, max: 1000 }),
      lmtp: fc.option(fc.constantFrom('inet:127.0.0.1:24', 'unix:/run/dovecot/lmtp'), { nil: undefined }),
      connectTimeout: SECONDS,
      smtpPort: fc.integer({ min: 1, max: 65535 }),
    })
    .map(({ relayHost, lmtp, ...d }) => ({
      ...d,
      ...(relayHost === undefined ? {} : { relayHost: parseRelayHost(relayHost) as RelayHost }),
      ...(lmtp === undefined ? {} : { lmtp }),
    })),
});

const CONFIG: fc.Arbitrary<MailgateConfig> = fc
  .tuple(CONDITIONS.chain((conditions) => fc.tuple(fc.constant(conditions), milters(conditions.map((c) => c.name)))), DATA_DIR, MANAGER, S25R, REMOTE_NETWORK, TRUST, STRESS, MTA)
  .map(([[conditions, milterList], dataDir, manager, s25r, remoteNetwork, trust, stress, mta]) => ({
    ...mta,
    dataDir,
    manager,
    milters: milterList,
    conditions,
    s25r,
    remoteNetwork,
    trust,
    stress,
  }));

/** The same value with ordinary prototypes (fast-check may build records without one). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof RegExp || typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

describe('formatConfig round trip', () => {
  it('any valid configuration prints as TOML that parses back to it', () => {
    fc.assert(
      fc.property(CONFIG, (config) => {
        const loaded: LoadedConfig = { config, origins: new Map(), file: undefined };
        const printed = formatConfig(loaded);
        const again = parseConfig(printed, 'printed.toml');
        expect(again.config).toStrictEqual(plain(config));
        // every value read back from the printed file has a file:line origin except unset optional ones
        expect(again.origins.get('manager.connection_spec')).toMatch(/^printed\.toml:\d+$/);
      }),
      { numRuns: 1000 },
    );
  });
});
