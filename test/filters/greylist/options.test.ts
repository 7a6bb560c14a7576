// The [[milter]] keys of builtin = "greylist": defaults, errors with file:line:key, conf vs
// conf_text, and a greylist.conf syntax error in conf_text reported at mailgate.toml's line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';
import type { GreylistOptions } from '../../../src/config/builtins/greylist.js';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import { silentLogger } from '../../../src/mail/logger.js';

function options(toml: string, baseDir?: string): GreylistOptions {
  const { config } = parseConfig(toml, 'mailgate.toml', baseDir === undefined ? {} : { baseDir });
  const m = config.milters[0];
  if (m?.builtin !== 'greylist') throw new Error('not a greylist milter');
  return m.options;
}

function configError(toml: string): ConfigError {
  try {
    const { config } = parseConfig(toml, 'mailgate.toml');
    chainFromConfig(config, silentLogger, { now: () => 0 });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no error');
}

const HEAD = '[[milter]]\nname = "greylist"\nbuiltin = "greylist"\n';

describe('greylist options', () => {
  test('defaults', () => {
    const o = options(`${HEAD}conf_text = "racl greylist default"\n`);
    expect(o).toEqual({
      conf: { text: 'racl greylist default', file: 'mailgate.toml', lineOffset: 3, key: 'milter "greylist".conf_text' },
      store: 'sqlite',
      redisUrl: 'redis://127.0.0.1:6379/0',
      redisPrefix: 'mailgate:greylist:',
    });
  });

  test('every key', () => {
    const o = options(`${HEAD}conf_text = "racl greylist default"\nstore = "redis"\nredis_url = "redis://10.0.0.1:6380/2"\nredis_prefix = "mx:"\nsqlite_file = "gl.db"\n`);
    expect(o).toMatchObject({ store: 'redis', redisUrl: 'redis://10.0.0.1:6380/2', redisPrefix: 'mx:', sqliteFile: 'gl.db' });
  });

  test('conf is read relative to the mailgate.toml directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-greylist-'));
    writeFileSync(join(dir, 'greylist.conf'), 'greylist 10m\n');
    const o = options(`${HEAD}conf = "greylist.conf"\n`, dir);
    expect(o.conf).toEqual({ text: 'greylist 10m\n', file: join(dir, 'greylist.conf'), lineOffset: 0 });
  });

  test.each([
    [`${HEAD}`, 1, 'milter "greylist"', /needs conf .* or conf_text/],
    [`${HEAD}conf = "a"\nconf_text = "b"\n`, 5, 'milter "greylist".conf_text', /both set/],
    [`${HEAD}conf = "/nonexistent/greylist.conf"\n`, 4, 'milter "greylist".conf', /cannot read \/nonexistent\/greylist.conf: no such file/],
    [`${HEAD}conf_text = "x"\nstore = "mysql"\n`, 5, 'milter "greylist".store', /"mysql" is not one of sqlite, redis, memory/],
    [`${HEAD}conf_text = "x"\nredis_url = "http://x"\n`, 5, 'milter "greylist".redis_url', /redis:\/\//],
    [`${HEAD}conf_text = "x"\nsqlite_file = 3\n`, 5, 'milter "greylist".sqlite_file', /expected a file path/],
    [`${HEAD}conf_txt = "x"\n`, 4, 'milter "greylist".conf_txt', /unknown key "conf_txt"/],
  ])('%j → line %d key %s', (toml, line, key, reason) => {
    let err: unknown;
    try {
      parseConfig(toml, 'mailgate.toml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.file).toBe('mailgate.toml');
    expect(e.line).toBe(line);
    expect(e.key).toBe(key);
    expect(e.message).toMatch(reason);
  });

  test('a greylist.conf syntax error in conf_text: mailgate.toml line, column and token; the chain is not built', () => {
    const toml = `${HEAD}store = "memory"\nconf_text = """\nsubnetmatch /24\ngreylist 10m\nracl whitelist adr 127.0.0.1\n"""\n`;
    const err = configError(toml);
    expect(err.message).toBe(
      'mailgate.toml:8: milter "greylist".conf_text: column 16: unexpected "adr", expected a clause (default, addr, from, rcpt, domain, helo, sm_macro, list, spf, auth, tls, not, ...)',
    );
  });

  test('a syntax error in a conf file names that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-greylist-'));
    writeFileSync(join(dir, 'greylist.conf'), '# mine\nautowhite 1y\n');
    const { config } = parseConfig(`${HEAD}store = "memory"\nconf = "greylist.conf"\n`, join(dir, 'mailgate.toml'));
    expect(() => chainFromConfig(config, silentLogger, { now: () => 0 })).toThrow(
      `${join(dir, 'greylist.conf')}:2: column 11: unexpected "1y", expected the autowhite period`,
    );
  });
});
