/** The header-level pieces: fields, Content-* parameters (RFC 2231), address lists. */
import { describe, expect, it } from 'vitest';
import { parseAddressList } from '../../../src/mail/mime/address-list.js';
import { parseContentTypeValue, parseLanguageValue } from '../../../src/mail/mime/content-params.js';
import { findField, parseHeaderBlock } from '../../../src/mail/mime/header-block.js';

describe('header fields', () => {
  it('splits fields, joins continuation lines with LF, stops at the blank line', () => {
    const buf = Buffer.from('A: 1\r\nB :  two\n\tthree\nno colon\n\nbody: x\n');
    const fields = parseHeaderBlock(buf, 0, buf.length);
    expect(fields.map((f) => [f.name, f.value])).toEqual([
      ['A', '1'],
      ['B', 'two\n\tthree'],
      ['no colon', ''],
    ]);
    expect(findField(fields, 'b')?.start).toBe(6);
  });
});

describe('content parameters', () => {
  it('keeps order, merges RFC 2231 continuations without decoding them', () => {
    const ct = parseContentTypeValue(`text/plain; b*1="2"; a=1; b*0="1"; c*0*=utf-8''%41; c*1=%; d*0=x; d*2=z`);
    expect(ct.params).toEqual([
      { name: 'a', value: '1' },
      { name: 'b', value: '12' },
      { name: 'c*', value: "utf-8''%41%25" },
      { name: 'd*0', value: 'x' },
      { name: 'd*2', value: 'z' },
    ]);
  });

  it('keeps what it can of a broken value', () => {
    expect(parseContentTypeValue('text')).toMatchObject({ type: 'text', subtype: '', valid: false });
    // what Dovecot makes of it too (content-type-odd.eml in the differential test): after a broken
    // parameter it skips one character and tries again
    expect(parseContentTypeValue('image/gif; ; name=x.gif ; =bad; ok=1').params).toEqual([
      { name: '', value: 'bad' },
      { name: 'ok', value: '1' },
    ]);
    expect(parseLanguageValue('en-US , fr ,, de')).toEqual(['en-US', 'fr']);
  });
});

describe('address lists', () => {
  it('parses names, routes, groups and fills what is missing', () => {
    expect(parseAddressList('"A, B" <a@b>, (c) d@e (Dee), g: x@y, z;, <@r1,@r2:q@w>')).toEqual([
      { name: 'A, B', route: null, mailbox: 'a', host: 'b' },
      { name: 'Dee', route: null, mailbox: 'd', host: 'e' },
      { name: null, route: null, mailbox: 'g', host: null },
      { name: null, route: null, mailbox: 'x', host: 'y' },
      { name: null, route: null, mailbox: 'z', host: 'MISSING_DOMAIN' },
      { name: null, route: null, mailbox: null, host: null },
      { name: null, route: '@r1,@r2', mailbox: 'q', host: 'w' },
    ]);
    expect(parseAddressList('John Smith')).toEqual([{ name: 'John Smith', route: null, mailbox: 'MISSING_MAILBOX', host: 'MISSING_DOMAIN' }]);
    expect(parseAddressList('  ')).toBeNull();
  });
});
