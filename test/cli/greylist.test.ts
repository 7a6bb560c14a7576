/** `mailgate greylist list|dump|flush`, run as the built command against SQLite and a real Redis. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { flushEntries, formatDump, overlaps, parseAddressFilter, selectEntries } from '../../src/filters/greylist/admin.js';
import { maskAddress } from '../../src/filters/greylist/tuple.js';
import { MemoryGreylistStore } from '../../src/store/greylist/memory.js';
import { RedisGreylistStore } from '../../src/store/greylist/redis.js';
import { SqliteGreylistStore } from '../../src/store/greylist/sqlite.js';
import type { GreylistEntry, GreylistStore } from '../../src/store/greylist/store.js';
import { startRedis, type RedisServer } from '../interop/harness/redis.js';
import { setupGuard } from '../interop/harness/setup-guard.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'mailgate-greylist-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 2026-01-01 12:00:00 UTC; the CLI runs with TZ=UTC so dates are fixed.
const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const entries: GreylistEntry[] = [
  { address: '192.0.2.0/24', sender: 'alice@example.com', recipient: 'bob@example.org', kind: 'pending', created: T, acceptAfter: T + 10 * MIN, expires: T + 10 * MIN + 5 * DAY, hits: 0 },
  { address: '192.0.2.0/24', sender: '', recipient: 'bob@example.org', kind: 'autowhite', created: T - 60 * MIN, acceptAfter: T - 30 * MIN, expires: T + 7 * DAY, hits: 4 },
  { address: '198.51.100.9', sender: 'carol@example.net', recipient: 'dave@example.org', kind: 'pending', created: T, acceptAfter: T + 10 * MIN, expires: T + 5 * DAY, hits: 0 },
  { address: '2001:db8::/64', sender: 'erin@example.net', recipient: 'bob@example.org', kind: 'autowhite', created: T, acceptAfter: T + 10 * MIN, expires: T + 7 * DAY, hits: 1 },
];

function mailgate(args: string[], cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** A directory with mailgate.toml (data_dir = "data", relative to it) and one greylist [[milter]] table per argument. */
function project(name: string, ...milters: string[]): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  const tables = milters.map((m) => `\n[[milter]]\nbuiltin = "greylist"\nconf_text = "racl greylist default"\n${m}`);
  writeFileSync(join(root, 'mailgate.toml'), ['data_dir = "data"', ...tables].join('\n') + '\n');
  return root;
}

async function seed(store: GreylistStore): Promise<void> {
  for (const e of entries) await store.put(e);
  await store.close();
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
});

describe('mailgate greylist with the default SQLite store', () => {
  test('list on a greylist that has no database yet: empty, and nothing is created', async () => {
    const root = project('empty', 'name = "greylist"');
    const r = await mailgate(['greylist', 'list'], root);
    expect(r.stderr).toBe(`mailgate: greylist database: SQLite ${join(root, 'data', 'greylist.sqlite')} (not created yet: no entries)\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('0 entries (0 pending, 0 autowhite)\n');
    expect(existsSync(join(root, 'data'))).toBe(false);
  });

  test('list: a table sorted by tuple, dates in local time, a count', async () => {
    const root = project('list', 'name = "greylist"');
    await seed(new SqliteGreylistStore(join(root, 'data', 'greylist.sqlite')));
    const r = await mailgate(['greylist', 'list'], root);
    expect(r.stderr).toBe(`mailgate: greylist database: SQLite ${join(root, 'data', 'greylist.sqlite')}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'ADDRESS        SENDER             RECIPIENT         KIND       FIRST SEEN           ACCEPT AFTER / EXPIRES       HITS',
        '192.0.2.0/24   <>                 bob@example.org   autowhite  2026-01-01 11:00:00  expires 2026-01-08 12:00:00  4',
        '192.0.2.0/24   alice@example.com  bob@example.org   pending    2026-01-01 12:00:00  accept 2026-01-01 12:10:00   0',
        '198.51.100.9   carol@example.net  dave@example.org  pending    2026-01-01 12:00:00  accept 2026-01-01 12:10:00   0',
        '2001:db8::/64  erin@example.net   bob@example.org   autowhite  2026-01-01 12:00:00  expires 2026-01-08 12:00:00  1',
        '4 entries (2 pending, 2 autowhite)',
        '',
      ].join('\n'),
    );
  });

  test("dump: milter-greylist's greylist.db format", async () => {
    const root = project('dump', 'name = "greylist"\nsqlite_file = "gl/state.sqlite"');
    await seed(new SqliteGreylistStore(join(root, 'data', 'gl', 'state.sqlite')));
    const r = await mailgate(['greylist', 'dump'], root);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^# milter-greylist databases, dumped by mailgate-\d+\.\d+\.\d+ on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.$/);
    expect(lines.slice(2).join('\n')).toBe(
      [
        '# DO NOT EDIT while milter-greylist is running, changes will be overwritten.',
        '#',
        '',
        '',
        '#',
        '# greylisted tuples',
        '#',
        '# Sender IP\tSender e-mail\tRecipient e-mail\tTime accepted',
        `192.0.2.0\t<alice@example.com>\t<bob@example.org>\t${(T + 10 * MIN) / 1000} # 2026-01-01 12:10:00`,
        `198.51.100.9\t<carol@example.net>\t<dave@example.org>\t${(T + 10 * MIN) / 1000} # 2026-01-01 12:10:00`,
        '',
        '',
        '#',
        '# Auto-whitelisted tuples',
        '#',
        '# Sender IP\tSender e-mail\tRecipient e-mail\tExpire',
        `192.0.2.0\t<>\t<bob@example.org>\t${(T + 7 * DAY) / 1000} AUTO # 2026-01-08 12:00:00`,
        `2001:db8::\t<erin@example.net>\t<bob@example.org>\t${(T + 7 * DAY) / 1000} AUTO # 2026-01-08 12:00:00`,
        '#',
        '# Summary: 4 records, 2 greylisted, 2 whitelisted',
        '#',
        '',
      ].join('\n'),
    );
  });

  test('--addr: an IP selects the entries that apply to it (any mask); a CIDR those overlapping it', async () => {
    const root = project('addr', 'name = "greylist"');
    await seed(new SqliteGreylistStore(join(root, 'data', 'greylist.sqlite')));
    const senders = async (addr: string): Promise<string[]> => {
      const r = await mailgate(['greylist', 'list', '--addr', addr], root);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').slice(1, -2).map((l) => l.split(/\s+/)[1] ?? '');
    };
    // (Fewer runs of the CLI here: the selection itself is covered in process below.)
    expect(await senders('192.0.2.77')).toEqual(['<>', 'alice@example.com']);
    expect(await senders('2001:db8::25')).toEqual(['erin@example.net']);
    expect(await senders('198.51.100.0/24')).toEqual(['carol@example.net']);
  });

  test('flush --addr, then flush: prints how many were deleted', async () => {
    const root = project('flush', 'name = "greylist"');
    await seed(new SqliteGreylistStore(join(root, 'data', 'greylist.sqlite')));
    let r = await mailgate(['greylist', 'flush', '--addr', '192.0.2.1'], root);
    expect([r.code, r.stdout]).toEqual([0, '2 entries deleted\n']);
    r = await mailgate(['greylist', 'flush', '--addr', '198.51.100.0/24'], root);
    expect([r.code, r.stdout]).toEqual([0, '1 entry deleted\n']);
    r = await mailgate(['greylist', 'flush'], root);
    expect([r.code, r.stdout]).toEqual([0, '1 entry deleted\n']);
    r = await mailgate(['greylist', 'list'], root);
    expect(r.stdout).toBe('0 entries (0 pending, 0 autowhite)\n');
  });

  test('run from another directory (systemd starts it from /): data_dir is relative to the file, not the cwd', async () => {
    const root = project('elsewhere', 'name = "greylist"');
    await seed(new SqliteGreylistStore(join(root, 'data', 'greylist.sqlite')));
    const r = await mailgate(['greylist', 'list', '-c', join(root, 'mailgate.toml')], '/');
    expect(r.stderr).toBe(`mailgate: greylist database: SQLite ${join(root, 'data', 'greylist.sqlite')}\n`);
    expect(r.stdout).toMatch(/^4 entries/m);
    const relative = await mailgate(['greylist', 'list', '-c', 'elsewhere/mailgate.toml'], dir);
    expect(relative.stdout).toMatch(/^4 entries/m);
  });

  test('[manager] data_dir still works, with one deprecation warning naming the top-level key', async () => {
    const root = join(dir, 'deprecated');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'mailgate.toml'), '[manager]\ndata_dir = "old"\n\n[[milter]]\nname = "g"\nbuiltin = "greylist"\nconf_text = "racl greylist default"\n');
    const r = await mailgate(['greylist', 'list'], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'mailgate: warning: mailgate.toml:2: manager.data_dir: deprecated; write data_dir at the top level of the file, before any [table]\n' +
        `mailgate: greylist database: SQLite ${join(root, 'old', 'greylist.sqlite')} (not created yet: no entries)\n`,
    );
  });

  test('a missing [trust] domains_file does not stop it (the manager and show-config still refuse it, with file:line)', async () => {
    const root = join(dir, 'no-trust-list');
    mkdirSync(root, { recursive: true });
    const toml = 'data_dir = "data"\n\n[trust]\ndomains_file = "absent.txt"\n\n[[milter]]\nname = "g"\nbuiltin = "greylist"\nconf_text = "racl greylist default"\n';
    writeFileSync(join(root, 'mailgate.toml'), toml);
    const r = await mailgate(['greylist', 'list'], root);
    expect([r.code, r.stdout]).toEqual([0, '0 entries (0 pending, 0 autowhite)\n']);
    expect(r.stderr).toBe(`mailgate: greylist database: SQLite ${join(root, 'data', 'greylist.sqlite')} (not created yet: no entries)\n`);
    const missing = `mailgate.toml:4: trust.domains_file: cannot read ${join(root, 'absent.txt')}: no such file\n`;
    const shown = await mailgate(['show-config'], root);
    expect([shown.code, shown.stderr]).toEqual([2, missing]);
    const started = await mailgate(['manager'], root);
    expect([started.code, started.stderr]).toEqual([2, `mailgate: ${missing}`]);
  });

  test('several greylist filters: --name chooses, without it exit 2 naming them', async () => {
    const root = project('two', 'name = "gl-a"', 'name = "gl-b"\nsqlite_file = "b.sqlite"');
    await seed(new SqliteGreylistStore(join(root, 'data', 'b.sqlite')));
    let r = await mailgate(['greylist', 'list'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mailgate: mailgate.toml: several greylist filters (gl-a, gl-b): choose one with --name\n');
    r = await mailgate(['greylist', 'list', '--name', 'gl-b'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^4 entries/m);
    r = await mailgate(['greylist', 'list', '--name', 'gl-c'], root);
    expect([r.code, r.stderr]).toEqual([2, 'mailgate: mailgate.toml: no greylist filter named "gl-c" (greylist filters: gl-a, gl-b)\n']);
  });
});

describe('mailgate greylist: bad configuration or arguments exit 2 with one line', () => {
  test.each([
    ['a TOML syntax error', '[manager\n'],
    ['a bad store', '[[milter]]\nname = "g"\nbuiltin = "greylist"\nconf_text = "racl greylist default"\nstore = "mysql"\n'],
    ['no greylist filter', '[[milter]]\nname = "m"\nconnection_spec = "inet:1@127.0.0.1"\n'],
    ['a memory store', '[[milter]]\nname = "g"\nbuiltin = "greylist"\nconf_text = "racl greylist default"\nstore = "memory"\n'],
  ])('%s', async (_what, toml) => {
    const root = join(dir, `bad-${_what.replace(/\W+/g, '-')}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'mailgate.toml'), toml);
    const r = await mailgate(['greylist', 'list'], root);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mailgate: mailgate\.toml[:\s][^\n]*\n$/);
  });

  test('a missing --config file', async () => {
    const r = await mailgate(['greylist', 'dump', '--config', 'nope.toml'], dir);
    expect([r.code, r.stderr]).toEqual([2, 'mailgate: nope.toml: cannot read the configuration file: no such file\n']);
  });

  test('a bad --addr', async () => {
    const r = await mailgate(['greylist', 'flush', '--addr', '300.1.2.3'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--addr.*"300\.1\.2\.3" is not an IP address or CIDR/);
  });
});

describe('mailgate greylist with store = "redis"', () => {
  const setup = setupGuard();
  let redis: RedisServer;
  beforeAll(() =>
    setup.run(async () => {
      redis = await startRedis();
    }),
  );
  afterAll(async () => {
    if (setup.ok) await redis.stop();
  });

  test('list and flush the shared greylist', async () => {
    setup.check();
    const root = project('redis', `name = "greylist"\nstore = "redis"\nredis_url = "${redis.url}"\nredis_prefix = "mx:"`);
    await seed(new RedisGreylistStore({ url: redis.url, prefix: 'mx:', now: () => T }));
    let r = await mailgate(['greylist', 'list', '--addr', '192.0.2.9'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^2 entries \(1 pending, 1 autowhite\)$/m);
    r = await mailgate(['greylist', 'flush'], root);
    expect([r.code, r.stdout]).toEqual([0, '4 entries deleted\n']);
  });

  test('an unreachable Redis: exit 1 with one line, within seconds', async () => {
    const root = project('redis-down', 'name = "greylist"\nstore = "redis"\nredis_url = "redis://127.0.0.1:1"');
    const r = await mailgate(['greylist', 'list'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mailgate: greylist database: Redis redis:\/\/127\.0\.0\.1:1, keys mailgate:greylist:\*\nmailgate: greylist store: Redis redis:\/\/127\.0\.0\.1:1\/?: .*ECONNREFUSED.*\n$/);
    expect(r.ms).toBeLessThan(10_000); // mostly node's start-up on a loaded machine; the store fails in < 1 s
  });
});

describe('--addr selection (in process)', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));

  test('an IP selects exactly the entries whose masked address contains it, whatever the mask', () => {
    fc.assert(
      fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (client, other, bits) => {
        const f = parseAddressFilter(client);
        if (f.kind !== 'ip') throw new Error('expected an IP filter');
        const stored = maskAddress(other, bits, 128);
        expect(f.candidates.includes(stored)).toBe(maskAddress(client, bits, 128) === stored);
      }),
    );
  });

  test('a CIDR overlaps a stored network when one contains the other', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, fc.integer({ min: 0, max: 32 }), (a, n, b, k) => {
        const network = maskAddress(a, n, 128).split('/')[0] ?? '';
        const f = parseAddressFilter(`${network}/${n}`);
        if (f.kind !== 'cidr') throw new Error('expected a CIDR filter');
        const common = Math.min(n, k);
        expect(overlaps(f, maskAddress(b, k, 128))).toBe(maskAddress(a, common, 128) === maskAddress(b, common, 128));
      }),
    );
  });

  test('selectEntries / flushEntries on a store', async () => {
    const s = new MemoryGreylistStore();
    for (const e of entries) await s.put(e);
    expect((await selectEntries(s, parseAddressFilter('192.0.2.200'))).map((e) => e.sender)).toEqual(['', 'alice@example.com']);
    expect((await selectEntries(s, parseAddressFilter('198.51.100.10'))).length).toBe(0);
    expect((await selectEntries(s, parseAddressFilter('192.0.2.128/25'))).length).toBe(2);
    expect((await selectEntries(s, parseAddressFilter('192.0.0.0/16'))).length).toBe(2);
    expect(await flushEntries(s, parseAddressFilter('2001:db8::/48'))).toBe(1);
    expect(await flushEntries(s, undefined)).toBe(3);
  });

  test('formatDump on an empty greylist is the bare header and a zero summary', () => {
    const text = formatDump([], { version: '0.1.0', now: T });
    expect(text).toMatch(/# Summary: 0 records, 0 greylisted, 0 whitelisted\n#\n$/);
  });
});
