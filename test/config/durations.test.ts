/**
 * Hostile-test defect: a duration above 2,147,483 s (30 days, 1e300) became a 1 ms Node timer, so every
 * session got the child's fallback at once. Every duration key is refused above the limit, with file:line.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { MAX_TIMER_MS, MAX_TIMER_SECONDS } from '../../src/config/timer-limit.js';

const THIRTY_DAYS = 30 * 86_400;

// Every key that becomes a timer: the table it lives in, its key path, and its unit.
const KEYS: { table: string; key: string; path: string; unit: 's' | 'ms' }[] = [
  { table: '[manager]', key: 'mta_timeout', path: 'manager.mta_timeout', unit: 's' },
  ...['connection_timeout', 'writing_timeout', 'reading_timeout', 'end_of_message_timeout'].map((key) => ({
    table: '[[milter]]\nname = "remote"\nconnection_spec = "inet:10026@127.0.0.1"',
    key,
    path: `milter "remote".${key}`,
    unit: 's' as const,
  })),
  { table: '[[milter]]\nname = "sa"\nbuiltin = "spamassassin"', key: 'timeout', path: 'milter "sa".timeout', unit: 's' },
  // connect_timeout may not exceed timeout: the longest timeout lets it reach the limit.
  { table: `[[milter]]\nname = "sa"\nbuiltin = "spamassassin"\ntimeout = ${MAX_TIMER_SECONDS}`, key: 'connect_timeout', path: 'milter "sa".connect_timeout', unit: 's' },
  { table: '[[milter]]\nname = "rspamd"\nbuiltin = "rspamd"', key: 'timeout', path: 'milter "rspamd".timeout', unit: 's' },
  { table: '[[milter]]\nname = "clamav"\nbuiltin = "clamav"', key: 'connect_timeout', path: 'milter "clamav".connect_timeout', unit: 's' },
  { table: '[[milter]]\nname = "clamav"\nbuiltin = "clamav"', key: 'read_timeout', path: 'milter "clamav".read_timeout', unit: 's' },
  { table: '[[milter]]\nname = "auth"\nbuiltin = "auth"', key: 'check_timeout', path: 'milter "auth".check_timeout', unit: 's' },
  { table: '[[milter]]\nname = "rules"\nbuiltin = "rules"', key: 'match_timeout', path: 'milter "rules".match_timeout', unit: 'ms' },
];

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'mailgate.toml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`accepted:\n${text}`);
}

describe('a duration longer than a Node timer can hold is refused with file:line', () => {
  const cases = KEYS.flatMap((k) => {
    const max = k.unit === 's' ? MAX_TIMER_SECONDS : MAX_TIMER_MS;
    const thirtyDays = k.unit === 's' ? THIRTY_DAYS : THIRTY_DAYS * 1000;
    return [
      { ...k, value: String(thirtyDays), shown: String(thirtyDays), max },
      { ...k, value: '1e300', shown: '1e+300', max },
    ];
  });

  it.each(cases)('$path = $value', ({ table, key, path, value, shown, max, unit }) => {
    const text = `# a comment\n${table}\n${key} = ${value}\n`;
    const line = text.split('\n').indexOf(`${key} = ${value}`) + 1;
    const err = errorOf(text);
    expect(err.message).toBe(
      `mailgate.toml:${line}: ${path}: must be at most ${max} ${unit}, got ${shown} (about 24.8 days: the longest timer Node can hold)`,
    );
  });

  it.each(KEYS)('$path at the limit is accepted', ({ table, key, unit }) => {
    const max = unit === 's' ? MAX_TIMER_SECONDS : MAX_TIMER_MS;
    expect(() => parseConfig(`${table}\n${key} = ${max}\n`, 'mailgate.toml')).not.toThrow();
  });
});
