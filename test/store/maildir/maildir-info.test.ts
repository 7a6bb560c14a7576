/** The `:2,` info part ↔ flags, base names and S=/W= from names, with properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLAG_BITS,
  formatMaildirInfo,
  keywordIndex,
  keywordLetter,
  maildirBase,
  maildirFileName,
  maildirNameSizes,
  parseMaildirInfo,
  splitMaildirFileName,
  systemFlagBits,
  systemFlagsOf,
} from '../../../src/store/maildir/maildir-info.js';

describe('maildir info', () => {
  it('reads the names Dovecot wrote', () => {
    const f = parseMaildirInfo('2,Sab');
    expect(systemFlagsOf(f.system)).toEqual(['\\Seen']);
    expect(f.keywords).toBe('ab');
    expect(parseMaildirInfo('2,Fc')).toEqual({ system: FLAG_BITS['\\Flagged'], keywords: 'c', other: '' });
    expect(systemFlagsOf(parseMaildirInfo('2,DFRST').system)).toEqual(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft']);
  });

  it('keeps letters it does not map, drops duplicates, ignores other info versions', () => {
    expect(parseMaildirInfo('2,PSbaa')).toEqual({ system: FLAG_BITS['\\Seen'], keywords: 'ab', other: 'P' });
    expect(formatMaildirInfo(parseMaildirInfo('2,PSbaa'))).toBe('2,PSab');
    expect(parseMaildirInfo('1,xyz')).toEqual({ system: 0, keywords: '', other: '' });
    expect(parseMaildirInfo(undefined)).toEqual({ system: 0, keywords: '', other: '' });
  });

  it('writes letters in ASCII order', () => {
    const bits = systemFlagBits(['\\seen', '\\Flagged', '\\Draft', '$Junk']);
    expect(maildirFileName('1.M2P3.h,S=1,W=2', { system: bits, keywords: 'ca', other: '' })).toBe('1.M2P3.h,S=1,W=2:2,DFSac');
    expect(formatMaildirInfo({ system: 0, keywords: '', other: '' })).toBe('2,');
  });

  it('splits base and info; reads S= and W=', () => {
    expect(splitMaildirFileName('1.M2P3.h,S=10,W=12:2,S')).toEqual({ base: '1.M2P3.h,S=10,W=12', info: '2,S' });
    expect(splitMaildirFileName('plain')).toEqual({ base: 'plain', info: undefined });
    expect(maildirBase('a:2,:x')).toBe('a');
    expect(maildirNameSizes('1.M2P3.h,S=10,W=12:2,S')).toEqual({ size: 10, vsize: 12 });
    expect(maildirNameSizes('1.M2P3.h,W=12')).toEqual({ size: undefined, vsize: 12 });
    expect(maildirNameSizes('1.M2P3.h,S=1x')).toEqual({ size: undefined, vsize: undefined });
    expect(maildirNameSizes('courier-name')).toEqual({ size: undefined, vsize: undefined });
  });

  it('maps keyword letters to dovecot-keywords indexes', () => {
    expect(keywordLetter(0)).toBe('a');
    expect(keywordLetter(25)).toBe('z');
    expect(keywordLetter(26)).toBeUndefined();
    expect(keywordIndex('c')).toBe(2);
    expect(keywordIndex('C')).toBeUndefined();
  });

  it('parse never throws and format∘parse is stable', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), (info) => {
        const f = parseMaildirInfo(info ?? undefined);
        const text = formatMaildirInfo(f);
        expect(parseMaildirInfo(text)).toEqual(f);
        expect(formatMaildirInfo(parseMaildirInfo(text))).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('flags survive a round trip through a name', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.subarray([...'abcdefghijklmnopqrstuvwxyz']), (system, kws) => {
        const flags = { system, keywords: kws.join(''), other: '' };
        const name = maildirFileName('1.M1P1.h,S=1,W=1', flags);
        const { base, info } = splitMaildirFileName(name);
        expect(base).toBe('1.M1P1.h,S=1,W=1');
        expect(parseMaildirInfo(info)).toEqual(flags);
      }),
    );
  });
});
