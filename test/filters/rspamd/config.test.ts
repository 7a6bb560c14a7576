import { describe, expect, it } from 'vitest';
import { parseSize, RSPAMD_DEFAULTS } from '../../../src/config/builtins/rspamd.js';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';

function rspamdOptions(toml: string) {
  const m = parseConfig(toml, 'mailgate.toml').config.milters[0]!;
  if (!('builtin' in m) || m.builtin !== 'rspamd') throw new Error('expected a builtin rspamd milter');
  return m.options;
}

function errorOf(toml: string): ConfigError {
  try {
    parseConfig(toml, 'mailgate.toml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const HEAD = '[[milter]]\nname = "rspamd"\nbuiltin = "rspamd"\n';

describe('[[milter]] builtin = "rspamd" options', () => {
  it('defaults', () => {
    expect(rspamdOptions(HEAD)).toEqual({
      url: 'http://127.0.0.1:11333',
      timeoutSeconds: 20,
      onFail: 'accept',
      maxSize: 20 * 1024 * 1024,
      skipAuthenticated: false,
      skipNetworks: [],
      rejectMessage: 'Spam message rejected',
      tempfailMessage: 'Try again later',
      greylistAction: 'accept',
      spamHeader: 'X-Spam',
      rewriteSubject: '***SPAM*** %s',
      milterBlock: true,
      passAll: false,
    });
    expect(RSPAMD_DEFAULTS.url).toBe('http://127.0.0.1:11333');
  });

  it('every option', () => {
    expect(
      rspamdOptions(
        HEAD +
          [
            'url = "http://10.0.0.5:11333/"',
            'socket = "/run/rspamd/normal.sock"',
            'password = "q1"',
            'timeout = 7.5',
            'on_fail = "tempfail"',
            'max_size = "512K"',
            'skip_authenticated = true',
            'skip_networks = ["127.0.0.0/8", "::1"]',
            'reject_message = "Go away"',
            'tempfail_message = "Later"',
            'greylist_action = "tempfail"',
            'spam_header = "X-Spam-Flag"',
            'rewrite_subject = "[SPAM] %s"',
            'score_header = "X-Spam-Score"',
            'result_header = "X-Spamd-Result"',
            'milter_block = false',
            'pass_all = true',
          ].join('\n'),
      ),
    ).toEqual({
      url: 'http://10.0.0.5:11333/',
      socket: '/run/rspamd/normal.sock',
      password: 'q1',
      timeoutSeconds: 7.5,
      onFail: 'tempfail',
      maxSize: 512 * 1024,
      skipAuthenticated: true,
      skipNetworks: ['127.0.0.0/8', '::1'],
      rejectMessage: 'Go away',
      tempfailMessage: 'Later',
      greylistAction: 'tempfail',
      spamHeader: 'X-Spam-Flag',
      rewriteSubject: '[SPAM] %s',
      scoreHeader: 'X-Spam-Score',
      resultHeader: 'X-Spamd-Result',
      milterBlock: false,
      passAll: true,
    });
  });

  it('max_size as bytes; on_fail "defer" means tempfail', () => {
    expect(rspamdOptions(`${HEAD}max_size = 100000\non_fail = "defer"`)).toMatchObject({ maxSize: 100000, onFail: 'tempfail' });
  });

  it('parseSize', () => {
    expect([parseSize('10'), parseSize('2k'), parseSize('3M'), parseSize('1G'), parseSize('20MB'), parseSize('x'), parseSize('-1')]).toEqual([
      10,
      2048,
      3 * 1024 ** 2,
      1024 ** 3,
      20 * 1024 ** 2,
      undefined,
      undefined,
    ]);
  });

  it.each<[string, string, number, string, RegExp]>([
    ['a typo in a key', 'time_out = 5', 4, 'milter "rspamd".time_out', /unknown key "time_out".*did you mean timeout/],
    ['a URL that is not one', 'url = "127.0.0.1:11333"', 4, 'milter "rspamd".url', /not a URL|only http/],
    ['https', 'url = "https://127.0.0.1:11333"', 4, 'milter "rspamd".url', /only http:\/\/ is supported/],
    ['a query in the URL', 'url = "http://127.0.0.1:11333/?x=1"', 4, 'milter "rspamd".url', /no query/],
    ['timeout 0', 'timeout = 0', 4, 'milter "rspamd".timeout', /greater than 0/],
    ['timeout as text', 'timeout = "5s"', 4, 'milter "rspamd".timeout', /expected a number/],
    ['on_fail reject', 'on_fail = "reject"', 4, 'milter "rspamd".on_fail', /"reject" is not one of accept, tempfail/],
    ['a bad size', 'max_size = "lots"', 4, 'milter "rspamd".max_size', /not a size/],
    ['size 0', 'max_size = 0', 4, 'milter "rspamd".max_size', /greater than 0/],
    ['a bad network', 'skip_networks = ["10.0.0.0/33"]', 4, 'milter "rspamd".skip_networks[0]', /prefix length/],
    ['a network not a string', 'skip_networks = [10]', 4, 'milter "rspamd".skip_networks[0]', /expected a string/],
    ['a header name with a space', 'spam_header = "X Spam"', 4, 'milter "rspamd".spam_header', /not a header name/],
    ['a header name with a colon', 'score_header = "X-Score:"', 4, 'milter "rspamd".score_header', /not a header name/],
    ['an empty socket', 'socket = ""', 4, 'milter "rspamd".socket', /must not be empty/],
    ['a two-line reject message', 'reject_message = "a\\nb"', 4, 'milter "rspamd".reject_message', /one line/],
    ['greylist_action reject', 'greylist_action = "reject"', 4, 'milter "rspamd".greylist_action', /not one of accept, tempfail/],
    ['milter_block as text', 'milter_block = "yes"', 4, 'milter "rspamd".milter_block', /expected true or false/],
  ])('%s → file:line: key: reason', (_what, line, lineNo, key, reason) => {
    const e = errorOf(`${HEAD}${line}\n`);
    expect(e.file).toBe('mailgate.toml');
    expect(e.line).toBe(lineNo);
    expect(e.key).toBe(key);
    expect(e.reason).toMatch(reason);
    expect(e.message.startsWith(`mailgate.toml:${lineNo}: ${key}: `)).toBe(true);
  });

  it('rspamd keys are refused on other milters', () => {
    const e = errorOf('[[milter]]\nname = "x"\nconnection_spec = "inet:1@127.0.0.1"\nurl = "http://127.0.0.1:11333"\n');
    expect(e.key).toBe('milter "x".url');
    expect(e.line).toBe(4);
  });
});
