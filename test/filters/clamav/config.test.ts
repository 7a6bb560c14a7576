/** The clamav options in a [[milter]] table: defaults, clamav-milter spellings, and errors naming file:line:key. */
import { describe, expect, it } from 'vitest';
import { CLAMAV_DEFAULTS, parseClamdAddress } from '../../../src/config/builtins/clamav.js';
import { configError } from '../../config/fixtures.js';
import { clamavOptions } from './drive.js';

const HEAD = '[[milter]]\nname = "clamav"\nbuiltin = "clamav"\n';

describe('clamav options', () => {
  it('defaults (clamav-milter / Debian defaults, max_file_size = clamd StreamMaxLength)', () => {
    expect(clamavOptions('')).toEqual({
      clamd: [{ type: 'unix', path: '/run/clamav/clamd.ctl' }],
      onInfected: 'quarantine',
      onFail: 'defer',
      addHeader: 'replace',
      rejectMsg: 'Virus found: %v',
      maxFileSize: 25 * 1024 * 1024,
      localNet: [],
      skipAuthenticated: undefined,
      reportHostname: undefined,
      connectTimeout: CLAMAV_DEFAULTS.connectTimeout,
      readTimeout: 120,
      keepAlive: true,
    });
  });

  it('every key, with clamav-milter spellings', () => {
    const o = clamavOptions(
      [
        'clamd = ["unix:/run/clamav/clamd.ctl", "inet:3310@127.0.0.1", "tcp:scanner.example:3311", "/var/run/clamd.sock"]',
        'on_infected = "Blackhole"',
        'on_fail = "Accept"',
        'add_header = "Yes"',
        'reject_msg = "Infected (%v)"',
        'max_file_size = "100M"',
        'local_net = ["127.0.0.0/8", "::1", "local"]',
        'skip_authenticated = "^admin@"',
        'report_hostname = "mx1.example.org"',
        'connect_timeout = 2',
        'read_timeout = 30',
        'keep_alive = false',
      ].join('\n'),
    );
    expect(o).toMatchObject({
      clamd: [
        { type: 'unix', path: '/run/clamav/clamd.ctl' },
        { type: 'inet', port: 3310, host: '127.0.0.1', family: 4 },
        { type: 'inet', port: 3311, host: 'scanner.example', family: 4 },
        { type: 'unix', path: '/var/run/clamd.sock' },
      ],
      onInfected: 'blackhole',
      onFail: 'accept',
      addHeader: 'replace',
      rejectMsg: 'Infected (%v)',
      maxFileSize: 100 * 1024 * 1024,
      localNet: ['127.0.0.0/8', '::1', 'local'],
      reportHostname: 'mx1.example.org',
      connectTimeout: 2,
      readTimeout: 30,
      keepAlive: false,
    });
    expect(o.skipAuthenticated?.test('admin@example.org')).toBe(true);
    expect(o.skipAuthenticated?.test('user@example.org')).toBe(false);
  });

  it('one clamd address as a plain string; sizes as integers; skip_authenticated = true matches any login', () => {
    const o = clamavOptions('clamd = "inet:3310"\nmax_file_size = 1000\nskip_authenticated = true\non_infected = "discard"\nadd_header = "no"');
    expect(o.clamd).toEqual([{ type: 'inet', port: 3310, host: '127.0.0.1', family: 4 }]);
    expect(o.maxFileSize).toBe(1000);
    expect(o.skipAuthenticated?.test('anyone')).toBe(true);
    expect(o.onInfected).toBe('blackhole');
    expect(o.addHeader).toBe('no');
    expect(clamavOptions('skip_authenticated = false').skipAuthenticated).toBeUndefined();
  });

  it('clamd addresses in every accepted spelling', () => {
    expect(parseClamdAddress('tcp:127.0.0.1')).toEqual({ type: 'inet', host: '127.0.0.1', port: 3310, family: 4 });
    expect(parseClamdAddress('tcp:[::1]:3310')).toEqual({ type: 'inet', host: '::1', port: 3310, family: 6 });
    expect(parseClamdAddress('inet6:3310')).toEqual({ type: 'inet', host: '::1', port: 3310, family: 6 });
    expect(parseClamdAddress('local:/x.sock')).toEqual({ type: 'unix', path: '/x.sock' });
    expect(parseClamdAddress('http://x')).toMatch(/unknown type "http"/);
  });

  it.each<[string, string, number, string, RegExp]>([
    ['unknown key, with a hint', 'on_infectd = "reject"', 4, 'milter "clamav".on_infectd', /unknown key "on_infectd" in \[\[milter\]\].*on_infected/],
    ['on_infected not an action', 'on_infected = "bounce"', 4, 'milter "clamav".on_infected', /"bounce" is not one of reject, defer, blackhole, quarantine, accept/],
    ['on_fail cannot discard', 'on_fail = "blackhole"', 4, 'milter "clamav".on_fail', /"blackhole" is not one of accept, defer, reject/],
    ['add_header', 'add_header = "prepend"', 4, 'milter "clamav".add_header', /"prepend" is not one of replace, add, no/],
    ['a bad clamd address', 'clamd = ["unix:/ok", "inet:99999@127.0.0.1"]', 4, 'milter "clamav".clamd[1]', /clamd address "inet:99999@127.0.0.1": port "99999"/],
    ['a single bad clamd address', 'clamd = "nowhere"', 4, 'milter "clamav".clamd', /clamd address "nowhere": expected unix:PATH/],
    ['no clamd address', 'clamd = []', 4, 'milter "clamav".clamd', /needs at least one clamd address/],
    ['clamd not a string', 'clamd = 3310', 4, 'milter "clamav".clamd', /expected an array, got an integer \(3310\)/],
    ['max_file_size spelling', 'max_file_size = "lots"', 4, 'milter "clamav".max_file_size', /"lots" is not a size like 25M/],
    ['max_file_size zero', 'max_file_size = 0', 4, 'milter "clamav".max_file_size', /must be greater than 0/],
    ['local_net entry', 'local_net = ["10.0.0.0/8", "10.0.0.0/33"]', 4, 'milter "clamav".local_net[1]', /prefix length "33".*or "local"/],
    ['skip_authenticated regex', 'skip_authenticated = "(unclosed"', 4, 'milter "clamav".skip_authenticated', /not a valid regular expression/],
    ['skip_authenticated type', 'skip_authenticated = 1', 4, 'milter "clamav".skip_authenticated', /expected true or false/],
    ['reject_msg on two lines', 'reject_msg = "a\\nb"', 4, 'milter "clamav".reject_msg', /printable text on one line/],
    ['read_timeout', 'read_timeout = 0', 4, 'milter "clamav".read_timeout', /must be greater than 0/],
    ['keep_alive', 'keep_alive = "yes"', 4, 'milter "clamav".keep_alive', /boolean|true or false/],
    ['report_hostname', 'report_hostname = "two words"', 4, 'milter "clamav".report_hostname', /must not contain spaces/],
  ])('%s: file:line: key: reason', (_what, line, lineNo, key, reason) => {
    const e = configError(`${HEAD}${line}\n`, 'mailgate.toml');
    expect([e.file, e.line, e.key]).toEqual(['mailgate.toml', lineNo, key]);
    expect(e.reason).toMatch(reason);
    expect(e.toString()).toMatch(new RegExp(`^mailgate\\.toml:${lineNo}: ${key.replace(/[[\].]/g, '\\$&')}: `));
  });
});
