import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfig } from '../../../src/config/load.js';
import type { BuiltinMilterConfig } from '../../../src/config/schema.js';

function table(lines: string): string {
  return `[[milter]]\nname = "spamassassin"\nbuiltin = "spamassassin"\n${lines}\n`;
}

function options(lines: string) {
  const { config } = parseConfig(table(lines), 'mailgate.toml');
  const m = config.milters[0] as BuiltinMilterConfig;
  if (m.builtin !== 'spamassassin') throw new Error('not spamassassin');
  return m.options;
}

function error(lines: string): ConfigError {
  try {
    parseConfig(table(lines), 'mailgate.toml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('[[milter]] builtin = "spamassassin" options', () => {
  it('has spamass-milter-like defaults', () => {
    expect(options('')).toEqual({
      spamd: 'inet:783@127.0.0.1',
      rejectCode: 550,
      rejectEcode: '5.7.1',
      rejectText: 'Blocked by SpamAssassin',
      modifyMessage: true,
      maxSize: 512000,
      skipAuthenticated: true,
      skipNetworks: [],
      onFail: 'accept',
      timeout: 30,
      connectTimeout: 5,
    });
  });

  it('reads every key', () => {
    expect(
      options(`spamd = "unix:/run/spamd.sock"
user = "spamd"
reject_score = 15
reject_code = 554
reject_ecode = "5.7.0"
reject_text = "Spam"
modify_message = false
max_size = 1000000
skip_authenticated = false
skip_networks = ["127.0.0.0/8", "::1", "2001:db8::/32"]
on_fail = "temporary-failure"
timeout = 10
connect_timeout = 0.5`),
    ).toEqual({
      spamd: 'unix:/run/spamd.sock',
      user: 'spamd',
      rejectScore: 15,
      rejectCode: 554,
      rejectEcode: '5.7.0',
      rejectText: 'Spam',
      modifyMessage: false,
      maxSize: 1000000,
      skipAuthenticated: false,
      skipNetworks: ['127.0.0.0/8', '::1', '2001:db8::/32'],
      onFail: 'tempfail',
      timeout: 10,
      connectTimeout: 0.5,
    });
    expect(options('reject_score = -1\ntimeout = 2').rejectScore).toBe(-1);
    expect(options('timeout = 2').connectTimeout).toBe(2);
    expect(options('reject_code = 451').rejectEcode).toBe('4.7.1');
  });

  it.each<[string, string, string]>([
    ['spamd = "tcp:783"', 'milter "spamassassin".spamd', 'unknown type "tcp"'],
    ['spamd = "inet:0@127.0.0.1"', 'milter "spamassassin".spamd', "port cannot be 0"],
    ['spamd = ""', 'milter "spamassassin".spamd', 'must not be empty'],
    ['user = "a b\\n"', 'milter "spamassassin".user', 'printable ASCII'],
    ['reject_score = -3', 'milter "spamassassin".reject_score', 'or -1'],
    ['reject_score = "15"', 'milter "spamassassin".reject_score', 'expected a number, got a string'],
    ['reject_code = 250', 'milter "spamassassin".reject_code', 'from 400 to 599'],
    ['reject_ecode = "5.7"', 'milter "spamassassin".reject_ecode', 'not an enhanced status code'],
    ['reject_code = 451\nreject_ecode = "5.7.1"', 'milter "spamassassin".reject_ecode', 'does not match reject_code 451'],
    ['reject_text = "a\\r\\nb"', 'milter "spamassassin".reject_text', 'one line'],
    ['modify_message = "no"', 'milter "spamassassin".modify_message', 'expected true or false'],
    ['max_size = 0', 'milter "spamassassin".max_size', 'greater than 0'],
    ['max_size = 1.5', 'milter "spamassassin".max_size', 'expected an integer'],
    ['skip_networks = ["10.0.0.0/33"]', 'milter "spamassassin".skip_networks[0]', 'prefix length'],
    ['skip_networks = "10.0.0.0/8"', 'milter "spamassassin".skip_networks', 'expected an array'],
    ['on_fail = "reject"', 'milter "spamassassin".on_fail', 'is not one of accept, tempfail'],
    ['timeout = 0', 'milter "spamassassin".timeout', 'greater than 0'],
    ['timeout = 1\nconnect_timeout = 2', 'milter "spamassassin".connect_timeout', 'must not be longer than timeout'],
    ['reject_scor = 15', 'milter "spamassassin".reject_scor', 'did you mean reject_score?'],
  ])('%s → file:line: key: reason', (line, key, reason) => {
    const e = error(line);
    const lines = table(line).split('\n');
    const keyName = key.replace(/^milter "spamassassin"\./, '').replace(/\[\d+\]$/, '');
    const expectedLine = lines.findIndex((l) => l.startsWith(`${keyName} =`)) + 1;
    expect(e.file).toBe('mailgate.toml');
    expect(e.key).toBe(key);
    expect(e.line).toBe(expectedLine);
    expect(e.message).toContain(`mailgate.toml:${expectedLine}: ${key}: `);
    expect(e.reason).toContain(reason);
  });
});
