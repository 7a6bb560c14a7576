/** Dovecot's Maildir names: escaping, uniqueness within one microsecond, and the sizes in the name. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeMaildirHost,
  maildirBaseName,
  maildirSizedName,
  nextMaildirTime,
  parseMaildirName,
  type MaildirTime,
} from '../../../src/store/maildir/maildir-name.js';

describe('maildir names', () => {
  it('escapes / and : in the host as Dovecot does', () => {
    expect(escapeMaildirHost('mx/1:a.example')).toBe('mx\\0571\\072a.example');
    expect(maildirBaseName({ secs: 1700000000, usecs: 42 }, 123, 'h:x')).toBe('1700000000.M42P123.h\\072x');
  });

  it('puts S= and W= after the base and reads them back', () => {
    const name = maildirSizedName('1700000000.M42P123.host', 10, 12);
    expect(name).toBe('1700000000.M42P123.host,S=10,W=12');
    expect(parseMaildirName(name)).toEqual({ secs: 1700000000, usecs: 42, pid: 123, host: 'host', size: 10, vsize: 12 });
    expect(parseMaildirName(`${name}:2,S`)?.info).toBe('2,S');
  });

  it('moves on by one microsecond when the clock stands still or goes back', () => {
    const t = { secs: 5, usecs: 999_999 };
    expect(nextMaildirTime(t, t)).toEqual({ secs: 6, usecs: 0 });
    expect(nextMaildirTime({ secs: 4, usecs: 0 }, { secs: 5, usecs: 1 })).toEqual({ secs: 5, usecs: 2 });
    expect(nextMaildirTime({ secs: 6, usecs: 0 }, { secs: 5, usecs: 1 })).toEqual({ secs: 6, usecs: 0 });
  });

  it('never repeats a time, whatever the clock does (property)', () => {
    const time = fc.record({ secs: fc.integer({ min: 0, max: 3 }), usecs: fc.integer({ min: 0, max: 999_999 }) });
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 200 }), (clock) => {
        let last: MaildirTime | undefined;
        const seen = new Set<string>();
        for (const now of clock) {
          last = nextMaildirTime(now, last);
          const name = maildirBaseName(last, 1, 'h');
          if (seen.has(name)) return false;
          seen.add(name);
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('an escaped host never holds / or : (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (host) => {
        const name = maildirBaseName({ secs: 1, usecs: 2 }, 3, host);
        return !name.includes('/') && !name.includes(':');
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('parseMaildirName', () => {
  it('never throws, and reads back every name it could have made (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => parseMaildirName(s) === undefined || typeof parseMaildirName(s)?.secs === 'number'), {
      numRuns: 10_000,
    });
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 999_999 }), fc.nat(), fc.string({ maxLength: 20 }), fc.nat(), fc.nat(), (secs, usecs, pid, host, s, w) => {
        const parsed = parseMaildirName(maildirSizedName(maildirBaseName({ secs, usecs }, pid, host.replace(/,/g, '')), s, w));
        return parsed?.secs === secs && parsed.usecs === usecs && parsed.pid === pid && parsed.size === s && parsed.vsize === w;
      }),
      { numRuns: 5_000 },
    );
  });
});
