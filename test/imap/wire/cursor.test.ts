/**
 * The argument cursor: every production on good input, and on bad input a ParseError that names what was
 * expected and the column. Frames come from the real reader (literals accepted).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMutf7 } from '../../../src/mail/mutf7.js';
import { ArgCursor, canonicalInbox } from '../../../src/imap/wire/cursor.js';
import { formatDateTime } from '../../../src/imap/wire/datetime.js';
import { atom, encodeValues, list, literal, quoted, str } from '../../../src/imap/wire/encoder.js';
import { isAtom } from '../../../src/imap/wire/grammar.js';
import { CommandReader } from '../../../src/imap/wire/reader.js';
import { ParseError } from '../../../src/imap/wire/frame.js';
import { b, frameOf } from './drive.js';

/** A cursor after the command name and its SP. */
function args(wire: string | Buffer): ArgCursor {
  const c = new ArgCursor(frameOf(wire));
  if (!c.atEnd()) c.sp();
  return c;
}

function parseError(f: () => unknown): ParseError {
  try {
    f();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('no ParseError');
}

describe('tokens', () => {
  it('atoms, tags, numbers, end of command', () => {
    const c = args('a1 X abc 42 0 4294967295 9223372036854775807 t+1');
    expect(c.atom()).toBe('abc');
    c.sp();
    expect(c.nzNumber()).toBe(42);
    c.sp();
    expect(c.number()).toBe(0);
    c.sp();
    expect(c.number()).toBe(4294967295);
    c.sp();
    expect(c.number64()).toBe(9223372036854775807n);
    c.sp();
    expect(c.tag()).toBe('t');
    expect(c.tryChar('+')).toBe(true);
    expect(c.atom()).toBe('1');
    c.end();
  });

  it('says what was expected and where', () => {
    expect(parseError(() => args('a1 X 4294967296').number())).toMatchObject({ position: 5, message: 'number over 4294967295 at column 5', status: 'BAD' });
    expect(parseError(() => args('a1 X 0').nzNumber()).message).toBe('expected a non-zero number at column 5 (found 0)');
    expect(parseError(() => args('a1 X 9223372036854775808').number64()).position).toBe(5);
    expect(parseError(() => args('a1 X (').atom()).message).toBe('expected an atom at column 5 (found "(")');
    expect(parseError(() => { const x = args('a1 X a b'); x.atom(); x.end(); }).message).toBe('expected end of command at column 6 (found SP)');
    const c = args('a1 X a');
    c.atom();
    expect(parseError(() => c.sp()).message).toBe('expected SP at column 6 (found end of command)');
    expect(parseError(() => args('a1 X {2}\r\nab').atom()).message).toBe('expected an atom at column 5 (found a literal)');
  });
});

describe('strings', () => {
  it('quoted with \\" and \\\\ escapes, 8-bit let through', () => {
    const c = args('a1 X "a\\"b\\\\c" "" "caf\xc3\xa9"');
    expect(c.string()).toBe('a"b\\c');
    c.sp();
    expect(c.string()).toBe('');
    c.sp();
    expect(c.string()).toBe('café');
    c.end();
  });

  it('refuses bad escapes, unterminated strings and NUL', () => {
    expect(parseError(() => args('a1 X "a\\x"').string()).position).toBe(8);
    expect(parseError(() => args('a1 X "abc').string()).message).toMatch(/unterminated quoted string \(opened at column 5\)/);
    expect(parseError(() => args(Buffer.from('a1 X "a\0b"\r\n', 'latin1')).string()).position).toBe(7);
    expect(parseError(() => args('a1 X abc').string()).message).toBe('expected a string at column 5 (found "a")');
  });

  it('literals keep exact bytes and the cursor goes on after them', () => {
    const payload = Buffer.from([0, 13, 10, 255, 34]);
    const c = args(Buffer.concat([b('a1 X {5}\r\n'), payload, b(' {0+}\r\n atom\r\n')]));
    expect(c.atLiteral()).toBe(true);
    expect(c.stringBytes()).toEqual(payload);
    c.sp();
    expect(c.astringBytes()).toEqual(Buffer.alloc(0));
    c.sp();
    expect(c.astring()).toBe('atom');
    c.end();
  });

  it('astring and nstring', () => {
    const c = args('a1 X ab]c "q" NIL nil "NIL" {1}\r\nx');
    expect(c.astring()).toBe('ab]c');
    c.sp();
    expect(c.astring()).toBe('q');
    c.sp();
    expect(c.nstring()).toBeNull();
    c.sp();
    expect(c.nstring()).toBeNull();
    c.sp();
    expect(c.nstring()).toBe('NIL');
    c.sp();
    expect(c.nstring()).toBe('x');
    c.end();
    expect(parseError(() => args('a1 X NILS').nstring()).position).toBe(5);
    expect(parseError(() => args('a1 X (').astring()).position).toBe(5);
  });
});

describe('lists and flags', () => {
  it('lists, empty and nested', () => {
    const c = args('a1 X () (a b) ((1 2) (3))');
    expect(c.list((x) => x.atom())).toEqual([]);
    c.sp();
    expect(c.list((x) => x.atom())).toEqual(['a', 'b']);
    c.sp();
    expect(c.list((x) => x.list((y) => y.number()))).toEqual([[1, 2], [3]]);
    c.end();
    expect(parseError(() => args('a1 X (a b').list((x) => x.atom())).message).toBe('expected SP or ")" at column 9 (found end of command)');
    expect(parseError(() => args('a1 X (a  b)').list((x) => x.atom())).position).toBe(8);
    expect(parseError(() => args('a1 X ()').list((x) => x.atom(), { allowEmpty: false })).position).toBe(6);
  });

  it('flags: system flags canonical, keywords as sent, \\* only when allowed', () => {
    expect(args('a1 X (\\seen \\ANSWERED \\Flagged \\deleted \\draft \\recent $Junk \\Ext)').flagList()).toEqual([
      '\\Seen',
      '\\Answered',
      '\\Flagged',
      '\\Deleted',
      '\\Draft',
      '\\Recent',
      '$Junk',
      '\\Ext',
    ]);
    expect(args('a1 X \\*').flag({ allowStar: true })).toBe('\\*');
    expect(parseError(() => args('a1 X \\*').flag()).position).toBe(6);
    expect(parseError(() => args('a1 X (\\)').flagList()).position).toBe(7);
    expect(parseError(() => args('a1 X (a"b)').flagList()).position).toBe(7);
  });
});

describe('mailboxes', () => {
  it('INBOX in any case, mUTF-7 decoded', () => {
    expect(args('a1 X inbox').mailbox()).toBe('INBOX');
    expect(args('a1 X "InBoX/Sub"').mailbox()).toBe('INBOX/Sub');
    expect(args('a1 X INBOXES').mailbox()).toBe('INBOXES');
    expect(args('a1 X Sent').mailbox()).toBe('Sent');
    expect(args('a1 X Entw&APw-rfe').mailbox()).toBe('Entwürfe');
    expect(args('a1 X {5}\r\nA&-B/').mailbox()).toBe('A&B/');
    expect(canonicalInbox('inbox')).toBe('INBOX');
    expect(canonicalInbox('inboxy')).toBe('inboxy');
  });

  it('refuses names that are not canonical modified UTF-7 with NO, as Dovecot', () => {
    for (const bad of ['&AC4ALg-', '"caf\xc3\xa9"', 'a&b', '"&ACY-"']) {
      expect(parseError(() => args(`a1 X ${bad}`).mailbox())).toMatchObject({ status: 'NO', message: expect.stringMatching(/^Mailbox name is not valid mUTF-7/) });
    }
  });

  it('list-mailbox: wildcards and ] allowed, decoded when valid', () => {
    const c = args('a1 X "" * % a]b Entw&APw-rfe*');
    expect(c.listMailbox()).toBe('');
    c.sp();
    expect(c.listMailbox()).toBe('*');
    c.sp();
    expect(c.listMailbox()).toBe('%');
    c.sp();
    expect(c.listMailbox()).toBe('a]b');
    c.sp();
    expect(c.listMailbox()).toBe('Entwürfe*');
    expect(parseError(() => args('a1 X (').listMailbox()).position).toBe(5);
  });
});

describe('sets, dates, sections', () => {
  it('sequence sets with absolute positions', () => {
    expect(args('a1 X 1:3,*').sequenceSet()).toEqual([
      { from: 1, to: 3 },
      { from: '*', to: '*' },
    ]);
    expect(parseError(() => args('a1 FETCH 1:0 FLAGS').sequenceSet()).position).toBe(11);
    expect(parseError(() => args('a1 FETCH FLAGS').sequenceSet()).position).toBe(9);
  });

  it('date and date-time', () => {
    expect(args('a1 X 1-Feb-2026').date()).toEqual({ year: 2026, month: 2, day: 1 });
    expect(args('a1 X "01-feb-2026"').date()).toEqual({ year: 2026, month: 2, day: 1 });
    expect(args('a1 X "03-Dec-2026 01:02:03 +0000"').dateTime()).toEqual({ ms: Date.UTC(2026, 11, 3, 1, 2, 3), tzMinutes: 0 });
    expect(parseError(() => args('a1 X 31-Feb-2026').date()).position).toBe(5);
    expect(parseError(() => args('a1 X 03-Dec-2026').dateTime()).message).toMatch(/expected a quoted date-time/);
    expect(parseError(() => args('a1 X "03-Dec-2026"').dateTime()).position).toBe(5);
  });

  it('sections and partials', () => {
    const cases: [string, unknown, unknown][] = [
      ['BODY[]', { part: [] }, undefined],
      ['BODY[TEXT]<0.10>', { part: [], text: 'TEXT' }, { start: 0, length: 10 }],
      ['BODY[1.2.HEADER.FIELDS (A B)]<0.10>', { part: [1, 2], text: 'HEADER.FIELDS', fields: ['A', 'B'] }, { start: 0, length: 10 }],
      ['BODY.PEEK[header.fields.not ("X-Y" {1}\r\nZ)]', { part: [], text: 'HEADER.FIELDS.NOT', fields: ['X-Y', 'Z'] }, undefined],
      ['BODY[3.MIME]', { part: [3], text: 'MIME' }, undefined],
      ['BODY[1.2.3]<10000000.5>', { part: [1, 2, 3] }, { start: 10000000, length: 5 }],
      ['BODY[2.header]', { part: [2], text: 'HEADER' }, undefined],
    ];
    for (const [item, section, partial] of cases) {
      const c = args(`a1 FETCH ${item}`);
      expect(['BODY', 'BODY.PEEK']).toContain(c.itemName().toUpperCase());
      expect(c.section(), item).toEqual(section);
      expect(c.partial(), item).toEqual(partial);
      c.end();
    }
  });

  it('bad sections say where', () => {
    const at = (item: string): number => {
      const c = args(`a1 FETCH ${item}`);
      c.itemName();
      return parseError(() => {
        c.section();
        c.partial();
        c.end();
      }).position;
    };
    expect(at('BODY[MIME]')).toBe(14);
    expect(at('BODY[0]')).toBe(14);
    expect(at('BODY[1.]')).toBe(16);
    expect(at('BODY[1.FOO]')).toBe(16);
    expect(at('BODY[HEADER.FIELDS]')).toBe(27);
    expect(at('BODY[HEADER.FIELDS ()]')).toBe(29);
    expect(at('BODY[TEXT')).toBe(18);
    expect(at('BODY[]<0>')).toBe(17);
    expect(at('BODY[]<0.0>')).toBe(18);
    expect(at('BODY[]<1.2')).toBe(19);
    expect(at('BODY[1.2.3.TEXT.x]')).toBe(20);
  });
});

describe('round trips: command values → encoder → reader + cursor', () => {
  const sectionArb = fc.record({
    part: fc.array(fc.integer({ min: 1, max: 99 }), { maxLength: 3 }),
    text: fc.constantFrom(undefined, 'HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME'),
    fields: fc.array(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/), { minLength: 1, maxLength: 3 }),
  });
  const sectionText = (s: { part: number[]; text: string | undefined; fields: string[] }): string => {
    const head = [s.part.join('.'), s.text ?? ''].filter((x) => x !== '').join('.');
    return s.text?.startsWith('HEADER.FIELDS') === true ? `${head} (${s.fields.join(' ')})` : head;
  };
  const expected = (s: { part: number[]; text: string | undefined; fields: string[] }): unknown =>
    s.text === undefined ? { part: s.part } : s.text.startsWith('HEADER.FIELDS') ? { part: s.part, text: s.text, fields: s.fields } : { part: s.part, text: s.text };

  it('FETCH items with sections and partials', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ section: sectionArb, partial: fc.option(fc.record({ start: fc.nat(), length: fc.integer({ min: 1, max: 2 ** 31 }) }), { nil: undefined }) }), { minLength: 1, maxLength: 4 })
          .filter((items) => items.every((i) => i.section.text !== 'MIME' || i.section.part.length > 0)),
        (items) => {
          const wire = `t FETCH 1:* (${items.map((i) => `BODY.PEEK[${sectionText(i.section)}]${i.partial ? `<${i.partial.start}.${i.partial.length}>` : ''}`).join(' ')})`;
          const c = args(wire);
          c.sequenceSet();
          c.sp();
          const back = c.list((x) => {
            x.itemName();
            return { section: x.section(), partial: x.partial() };
          });
          c.end();
          expect(back).toEqual(items.map((i) => ({ section: expected(i.section), partial: i.partial })));
        },
      ),
      { numRuns: 1000, seed: 3 },
    );
  });

  it('APPEND: mailbox (any Unicode), flags, date-time, message bytes', () => {
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        name,
        fc.constantFrom<'atom' | 'quoted' | 'literal'>('atom', 'quoted', 'literal'),
        fc.subarray(['\\Seen', '\\Draft', '$Junk', 'Keyword']),
        fc.option(fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }).map((ms) => ({ ms: ms - (ms % 1000), tzMinutes: 120 })), { nil: undefined }),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        (mailbox, form, flags, date, message, plus) => {
          const encodedName = encodeMutf7(mailbox);
          const nameValue = form === 'literal' ? literal(encodedName) : form === 'quoted' || !isAtom(encodedName) ? quoted(encodedName) : atom(encodedName);
          const values = [nameValue, list(flags.map(atom)), ...(date ? [quoted(formatDateTime(date))] : [])];
          const head = Buffer.concat([b('t APPEND '), encodeValues(values), b(` {${message.length}${plus ? '+' : ''}}\r\n`)]);
          const c = args(Buffer.concat([head, Buffer.from(message), b('\r\n')]));
          expect(c.mailbox()).toBe(canonicalInbox(mailbox));
          c.sp();
          expect(c.flagList()).toEqual(flags);
          c.sp();
          if (date) {
            expect(c.dateTime()).toEqual(date);
            c.sp();
          }
          expect(c.literal()).toEqual(Buffer.from(message));
          c.end();
        },
      ),
      { numRuns: 1000, seed: 4 },
    );
  });

  it('LOGIN: any bytes as user and password', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), (user, pass) => {
        const c = args(Buffer.concat([b('t LOGIN '), encodeValues([str(Buffer.from(user)), str(Buffer.from(pass))]), b('\r\n')]));
        expect(c.astringBytes()).toEqual(Buffer.from(user));
        c.sp();
        expect(c.astringBytes()).toEqual(Buffer.from(pass));
        c.end();
      }),
      { numRuns: 1000, seed: 5 },
    );
  });

  it('a cursor over a literal announcement reads the command so far', () => {
    const reader = new CommandReader();
    const [e] = reader.feed(b('t APPEND "Entw&APw-rfe" (\\Seen) {10}\r\n'));
    if (e?.type !== 'literal') throw new Error('no announcement');
    const c = new ArgCursor(e.announcement);
    c.sp();
    expect(c.mailbox()).toBe('Entwürfe');
    c.sp();
    expect(c.flagList()).toEqual(['\\Seen']);
    c.sp();
    expect(c.atEnd()).toBe(true);
  });

  it('save and restore', () => {
    const c = args('t X {1}\r\na b');
    const m = c.save();
    expect(c.string()).toBe('a');
    c.restore(m);
    expect(c.atLiteral()).toBe(true);
    expect(c.string()).toBe('a');
    c.sp();
    expect(c.peek()).toBe(0x62);
  });
});
