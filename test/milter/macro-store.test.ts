import { describe, expect, it } from 'vitest';
import { canonicalMacroName, NO_MACROS } from '../../src/mail/macros.js';
import { MACRO_STAGES } from '../../src/mail/stage.js';
import { Command } from '../../src/milter/constants.js';
import { MacroStore } from '../../src/milter/macro-store.js';

const C = Command;

describe('canonicalMacroName', () => {
  it('single letters bare, longer names in braces', () => {
    expect(canonicalMacroName('j')).toBe('j');
    expect(canonicalMacroName('{j}')).toBe('j');
    expect(canonicalMacroName('_')).toBe('_');
    expect(canonicalMacroName('client_addr')).toBe('{client_addr}');
    expect(canonicalMacroName('{client_addr}')).toBe('{client_addr}');
  });
});

describe('MacroStore', () => {
  it('accepts every macro stage byte Postfix and Sendmail use, refuses others', () => {
    const m = new MacroStore();
    for (const b of [C.CONNECT, C.HELO, C.MAIL, C.RCPT, C.DATA, C.EOH, C.HEADER, C.BODYEOB, C.BODY, C.UNKNOWN]) {
      expect(m.set(b, [])).toBe(true);
    }
    for (const b of [C.OPTNEG, C.QUIT, C.ABORT, C.MACRO, 0, 0xff]) expect(m.set(b, [['x', '1']])).toBe(false);
    expect(m.get('x')).toBeUndefined();
  });

  it('`x` and `{x}` find the same macro, whichever way it was sent', () => {
    const m = new MacroStore();
    m.set(C.CONNECT, [
      ['j', 'mx.example.net'],
      ['{daemon_name}', 'smtpd'],
      ['{i}', 'braced-single'],
    ]);
    expect(m.get('j')).toBe('mx.example.net');
    expect(m.get('{j}')).toBe('mx.example.net');
    expect(m.get('daemon_name')).toBe('smtpd');
    expect(m.get('{daemon_name}')).toBe('smtpd');
    expect(m.get('i')).toBe('braced-single');
    expect(m.get('{client_addr}')).toBeUndefined();
  });

  it('newer stages win over older ones; within a packet the later pair wins', () => {
    const m = new MacroStore();
    m.set(C.CONNECT, [['v', 'Postfix'], ['i', 'none']]);
    m.set(C.MAIL, [['i', 'Q1']]);
    expect(m.get('i')).toBe('Q1');
    m.set(C.RCPT, [['i', 'Q2']]);
    expect(m.get('i')).toBe('Q2');
    m.set(C.BODYEOB, [['i', 'Q3'], ['{i}', 'Q4']]);
    expect(m.get('i')).toBe('Q4');
    expect(m.get('v')).toBe('Postfix');
  });

  it('a new packet for a stage replaces that stage (no merging)', () => {
    const m = new MacroStore();
    m.set(C.MAIL, [['{auth_type}', 'PLAIN']]);
    m.set(C.MAIL, [['{mail_addr}', 'a@b']]);
    expect(m.get('auth_type')).toBeUndefined();
    expect(m.get('mail_addr')).toBe('a@b');
  });

  it('CONNECT, HELO, MAIL and RCPT packets clear every later stage, UNKNOWN included', () => {
    const fill = (m: MacroStore) => {
      m.set(C.CONNECT, [['c', '1']]);
      m.set(C.HELO, [['h', '1']]);
      m.set(C.MAIL, [['m', '1']]);
      m.set(C.RCPT, [['r', '1']]);
      m.set(C.DATA, [['t', '1']]);
      m.set(C.EOH, [['n', '1']]);
      m.set(C.BODYEOB, [['e', '1']]);
      m.set(C.UNKNOWN, [['u', '1']]);
    };
    const visible = (m: MacroStore) => ['c', 'h', 'm', 'r', 't', 'n', 'e', 'u'].filter((n) => m.get(n) !== undefined).join('');
    const cases: [number, string][] = [
      [C.CONNECT, 'c'],
      [C.HELO, 'ch'],
      [C.MAIL, 'chm'],
      [C.RCPT, 'chmr'],
      [C.DATA, 'chmrtneu'],
      [C.EOH, 'chmrtneu'],
      [C.BODYEOB, 'chmrtneu'],
    ];
    for (const [stage, left] of cases) {
      const m = new MacroStore();
      fill(m);
      const name = String.fromCharCode(stage).toLowerCase();
      const keep = m.get(name);
      m.set(stage, keep === undefined ? [] : [[name, keep]]);
      expect(visible(m), `after a ${String.fromCharCode(stage)} packet`).toBe(left);
    }
  });

  it('a packet with zero pairs still clears the later stages', () => {
    const m = new MacroStore();
    m.set(C.HELO, [['{tls_version}', 'TLSv1.3']]);
    m.set(C.MAIL, [['i', 'Q']]);
    m.set(C.HELO, []);
    expect(m.get('tls_version')).toBeUndefined();
    expect(m.get('i')).toBeUndefined();
    expect(m.forStage('helo')).toEqual([]);
  });

  it("Postfix's 'L' and 'B' stage bytes belong to the EOH and EOM lists", () => {
    const m = new MacroStore();
    m.set(C.HEADER, [['x', 'hdr']]);
    m.set(C.BODY, [['y', 'body']]);
    expect(m.forStage('endOfHeaders')).toEqual([['x', 'hdr']]);
    expect(m.forStage('endOfMessage')).toEqual([['y', 'body']]);
    m.set(C.EOH, [['x', 'eoh']]);
    expect(m.get('x')).toBe('eoh');
  });

  it('clearMessage forgets MAIL..EOM and UNKNOWN, keeps CONNECT and HELO', () => {
    const m = new MacroStore();
    m.set(C.CONNECT, [['j', 'mx']]);
    m.set(C.HELO, [['{cipher}', 'AES']]);
    m.set(C.UNKNOWN, [['u', '1']]);
    m.set(C.MAIL, [['i', 'Q']]);
    m.set(C.RCPT, [['{rcpt_addr}', 'r']]);
    m.set(C.DATA, [['d', '1']]);
    m.set(C.EOH, [['n', '1']]);
    m.set(C.BODYEOB, [['e', '1']]);
    m.clearMessage();
    expect(m.all()).toEqual({ j: 'mx', '{cipher}': 'AES' });
  });

  it('clearAll forgets everything (QUIT, QUIT_NC)', () => {
    const m = new MacroStore();
    m.set(C.CONNECT, [['j', 'mx']]);
    m.set(C.UNKNOWN, [['u', '1']]);
    m.clearAll();
    expect(m.all()).toEqual({});
    expect(m.get('j')).toBeUndefined();
  });

  it('forStage gives the pairs as sent, for every macro stage', () => {
    const m = new MacroStore();
    const bytes: Record<(typeof MACRO_STAGES)[number], number> = {
      connect: C.CONNECT,
      helo: C.HELO,
      mail: C.MAIL,
      rcpt: C.RCPT,
      data: C.DATA,
      endOfHeaders: C.EOH,
      endOfMessage: C.BODYEOB,
      unknown: C.UNKNOWN,
    };
    for (const s of MACRO_STAGES) expect(m.forStage(s)).toEqual([]);
    for (const s of MACRO_STAGES) m.set(bytes[s], [[`{${s}}`, s], ['j', s]]);
    for (const s of MACRO_STAGES) expect(m.forStage(s)).toEqual([[`{${s}}`, s], ['j', s]]);
  });

  it('all(): later stages override, names as the MTA sent them', () => {
    const m = new MacroStore();
    m.set(C.CONNECT, [['j', 'a'], ['{client_addr}', '192.0.2.1']]);
    m.set(C.MAIL, [['j', 'b'], ['{j}', 'c']]);
    expect(m.all()).toEqual({ j: 'b', '{j}': 'c', '{client_addr}': '192.0.2.1' });
  });

  it('lookups see a stage replaced after a lookup (no stale index)', () => {
    const m = new MacroStore();
    m.set(C.RCPT, [['{rcpt_addr}', 'one']]);
    expect(m.get('rcpt_addr')).toBe('one');
    m.set(C.RCPT, [['{rcpt_addr}', 'two']]);
    expect(m.get('rcpt_addr')).toBe('two');
    m.clearMessage();
    expect(m.get('rcpt_addr')).toBeUndefined();
  });

  it('NO_MACROS is empty', () => {
    expect(NO_MACROS.get('j')).toBeUndefined();
    expect(NO_MACROS.all()).toEqual({});
    expect(NO_MACROS.forStage('connect')).toEqual([]);
  });
});
