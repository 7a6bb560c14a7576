/**
 * Byte-exact encode/decode of every command (SMFIC_*) and response (SMFIR_*), against wire bytes
 * written out by hand (length prefixes counted by hand, see the comments).
 */
import { describe, expect, it } from 'vitest';
import { reject, tempfail } from '../../src/mail/reply.js';
import { decodeCommand, encodeCommand, UnknownCommandError, type MilterCommand } from '../../src/milter/commands.js';
import { Command, Response } from '../../src/milter/constants.js';
import { encodePacket, FrameError, PacketDecoder, type Packet } from '../../src/milter/packet.js';
import { responseForReply } from '../../src/milter/reply-code.js';
import {
  decodeResponse,
  encodeResponse,
  FINAL_RESPONSES,
  UnknownResponseError,
  type MilterResponse,
} from '../../src/milter/responses.js';
import { cstrings, decodeText, encodeText, PayloadError, readCString, splitStrings } from '../../src/milter/text.js';

/** Wire bytes from parts: number arrays are raw bytes, strings are ASCII/Latin-1 text (no NUL added). */
function wire(...parts: (readonly number[] | string)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

/** Splits wire bytes into one packet (whole buffer must be exactly one packet). */
function packetOf(bytes: Buffer): Packet {
  const packets = new PacketDecoder(1 << 24).push(bytes);
  expect(packets).toHaveLength(1);
  return packets[0]!;
}

function checkCommand(cmd: MilterCommand, bytes: Buffer, decoded: MilterCommand = cmd): void {
  expect(encodeCommand(cmd).toString('hex')).toBe(bytes.toString('hex'));
  expect(decodeCommand(packetOf(bytes))).toEqual(decoded);
}

function checkResponse(r: MilterResponse, bytes: Buffer, decoded: MilterResponse = r): void {
  expect(encodeResponse(r).toString('hex')).toBe(bytes.toString('hex'));
  expect(decodeResponse(packetOf(bytes))).toEqual(decoded);
}

describe('commands (MTA → filter), byte-exact', () => {
  it("OPTNEG: Postfix's offer 6, 0x1FF, 0x1FFFFF", () => {
    // len 13 = code + 3 × u32
    checkCommand(
      { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff },
      wire([0, 0, 0, 13], 'O', [0, 0, 0, 6], [0, 0, 1, 0xff], [0, 0x1f, 0xff, 0xff]),
    );
  });

  it('OPTNEG: values with the top bit set survive as unsigned', () => {
    checkCommand(
      { type: 'optneg', version: 2, actions: 0, protocol: 0xffffffff },
      wire([0, 0, 0, 13], 'O', [0, 0, 0, 2], [0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]),
    );
  });

  it('OPTNEG: extra bytes after the 12 fixed ones are ignored', () => {
    const bytes = wire([0, 0, 0, 15], 'O', [0, 0, 0, 6], [0, 0, 1, 0xff], [0, 0x1f, 0xff, 0xff], [1, 2]);
    expect(decodeCommand(packetOf(bytes))).toEqual({ type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff });
  });

  it("CONNECT: family '4', port 12345 (Postfix's local client, miltertest's port)", () => {
    // "localhost\0" 10 + '4' 1 + port 2 + "127.0.0.1\0" 10 = 23, len 24
    checkCommand(
      { type: 'connect', hostname: 'localhost', family: 'inet', port: 12345, address: '127.0.0.1' },
      wire([0, 0, 0, 24], 'C', 'localhost', [0], '4', [0x30, 0x39], '127.0.0.1', [0]),
    );
  });

  it("CONNECT: family '6', no IPv6: prefix, failed reverse DNS as [addr]", () => {
    // "[2001:db8::1]\0" 14 + '6' + port 25 (2) + "2001:db8::1\0" 12 = 29, len 30
    checkCommand(
      { type: 'connect', hostname: '[2001:db8::1]', family: 'inet6', port: 25, address: '2001:db8::1' },
      wire([0, 0, 0, 30], 'C', '[2001:db8::1]', [0], '6', [0, 25], '2001:db8::1', [0]),
    );
  });

  it("CONNECT: unix 'L' with port 0 and the socket path", () => {
    // "localhost\0" 10 + 'L' + 2 + "/var/run/sock\0" 14 = 27, len 28
    checkCommand(
      { type: 'connect', hostname: 'localhost', family: 'unix', port: 0, address: '/var/run/sock' },
      wire([0, 0, 0, 28], 'C', 'localhost', [0], 'L', [0, 0], '/var/run/sock', [0]),
    );
  });

  it("CONNECT: unknown 'U' carries neither port nor address", () => {
    // "host\0" 5 + 'U' = 6, len 7
    checkCommand(
      { type: 'connect', hostname: 'host', family: 'unknown', port: 0, address: '' },
      wire([0, 0, 0, 7], 'C', 'host', [0], 'U'),
    );
  });

  it('CONNECT: a host name alone (no family byte) decodes as unknown', () => {
    expect(decodeCommand(packetOf(wire([0, 0, 0, 6], 'C', 'host', [0])))).toEqual({
      type: 'connect',
      hostname: 'host',
      family: 'unknown',
      port: 0,
      address: '',
    });
  });

  it('CONNECT: address without its final NUL is tolerated', () => {
    expect(decodeCommand(packetOf(wire([0, 0, 0, 13], 'C', 'h', [0], '4', [0, 1], '1.2.3.4')))).toMatchObject({
      family: 'inet',
      port: 1,
      address: '1.2.3.4',
    });
  });

  it('CONNECT: port is written modulo 2^16', () => {
    const b = encodeCommand({ type: 'connect', hostname: 'h', family: 'inet', port: 0x1_0019, address: 'a' });
    expect(b.subarray(8, 10)).toEqual(Buffer.from([0, 0x19]));
  });

  it('HELO', () => {
    // "mx.example.com\0" 15, len 16
    checkCommand({ type: 'helo', name: 'mx.example.com' }, wire([0, 0, 0, 16], 'H', 'mx.example.com', [0]));
  });

  it('HELO: empty payload is an empty name', () => {
    expect(decodeCommand(packetOf(wire([0, 0, 0, 1], 'H')))).toEqual({ type: 'helo', name: '' });
  });

  it('MAIL: argv with ESMTP arguments', () => {
    // "<s@x>\0" 6 + "SIZE=100\0" 9 + "BODY=8BITMIME\0" 14 = 29, len 30
    checkCommand(
      { type: 'mail', args: ['<s@x>', 'SIZE=100', 'BODY=8BITMIME'] },
      wire([0, 0, 0, 30], 'M', '<s@x>', [0], 'SIZE=100', [0], 'BODY=8BITMIME', [0]),
    );
  });

  it('MAIL: the null sender <> and an empty sender ""', () => {
    checkCommand({ type: 'mail', args: ['<>'] }, wire([0, 0, 0, 4], 'M', '<>', [0]));
    checkCommand({ type: 'mail', args: [''] }, wire([0, 0, 0, 2], 'M', [0]));
  });

  it('RCPT: argv with ESMTP arguments', () => {
    // "<r@y>\0" 6 + "NOTIFY=NEVER\0" 13 = 19, len 20
    checkCommand(
      { type: 'rcpt', args: ['<r@y>', 'NOTIFY=NEVER'] },
      wire([0, 0, 0, 20], 'R', '<r@y>', [0], 'NOTIFY=NEVER', [0]),
    );
  });

  it('DATA, EOH, ABORT, QUIT, QUIT_NC: code only', () => {
    checkCommand({ type: 'data' }, wire([0, 0, 0, 1], 'T'));
    checkCommand({ type: 'eoh' }, wire([0, 0, 0, 1], 'N'));
    checkCommand({ type: 'abort' }, wire([0, 0, 0, 1], 'A'));
    checkCommand({ type: 'quit' }, wire([0, 0, 0, 1], 'Q'));
    checkCommand({ type: 'quitNc' }, wire([0, 0, 0, 1], 'K'));
  });

  it('HEADER: name and value', () => {
    // "Subject\0" 8 + "hello\0" 6 = 14, len 15
    checkCommand({ type: 'header', name: 'Subject', value: 'hello' }, wire([0, 0, 0, 15], 'L', 'Subject', [0], 'hello', [0]));
  });

  it('HEADER: empty value (go-milter once failed here)', () => {
    // "X-Empty\0" 8 + "\0" 1 = 9, len 10
    checkCommand({ type: 'header', name: 'X-Empty', value: '' }, wire([0, 0, 0, 10], 'L', 'X-Empty', [0], [0]));
    // and with the value's NUL missing altogether
    expect(decodeCommand(packetOf(wire([0, 0, 0, 9], 'L', 'X-Empty', [0])))).toEqual({
      type: 'header',
      name: 'X-Empty',
      value: '',
    });
  });

  it('HEADER: 8-bit bytes are shown as UTF-8 when valid, else Latin-1; folded values keep LF and tab', () => {
    // "S\0" 2 + "é" 2 + "\n\tx" 3 + NUL = 8, len 9
    const utf8 = wire([0, 0, 0, 9], 'L', 'S', [0], [0xc3, 0xa9], '\n\tx', [0]);
    expect(decodeCommand(packetOf(utf8))).toMatchObject({ value: 'é\n\tx' });
    const latin1 = wire([0, 0, 0, 5], 'L', 'S', [0], [0xe9, 0]);
    expect(decodeCommand(packetOf(latin1))).toMatchObject({ value: 'é' });
    expect(encodeCommand({ type: 'header', name: 'S', value: 'é' })).toEqual(wire([0, 0, 0, 6], 'L', 'S', [0], [0xc3, 0xa9, 0]));
  });

  it('BODY: raw bytes, not NUL-terminated, NULs inside kept', () => {
    checkCommand({ type: 'body', chunk: Buffer.from('abc\r\n') }, wire([0, 0, 0, 6], 'B', 'abc\r\n'));
    checkCommand({ type: 'body', chunk: Buffer.from([0, 0xff, 0]) }, wire([0, 0, 0, 4], 'B', [0, 0xff, 0]));
  });

  it('BODYEOB: empty, and with an attached last chunk (very old MTAs)', () => {
    checkCommand({ type: 'bodyeob', chunk: Buffer.alloc(0) }, wire([0, 0, 0, 1], 'E'));
    checkCommand({ type: 'bodyeob', chunk: Buffer.from('end\r\n') }, wire([0, 0, 0, 6], 'E', 'end\r\n'));
  });

  it('UNKNOWN: the full command line', () => {
    // "HELP me\0" 8, len 9
    checkCommand({ type: 'unknown', command: 'HELP me' }, wire([0, 0, 0, 9], 'U', 'HELP me', [0]));
  });

  it('MACRO: stage byte and name/value pairs, braces kept as sent', () => {
    // 'C' 1 + "j\0" 2 + "mx\0" 3 + "{daemon_name}\0" 14 + "smtpd\0" 6 = 26, len 27
    checkCommand(
      {
        type: 'macro',
        stage: Command.CONNECT,
        macros: [
          ['j', 'mx'],
          ['{daemon_name}', 'smtpd'],
        ],
      },
      wire([0, 0, 0, 27], 'D', 'C', 'j', [0], 'mx', [0], '{daemon_name}', [0], 'smtpd', [0]),
    );
  });

  it('MACRO: zero pairs (Postfix with no valued macro)', () => {
    checkCommand({ type: 'macro', stage: Command.HELO, macros: [] }, wire([0, 0, 0, 2], 'D', 'H'));
  });

  it('MACRO: an odd count drops the last name (go-milter once panicked)', () => {
    // 'M' + "i\0" + "ABC\0" + "{auth_type}\0" = 1 + 2 + 4 + 12 = 19, len 20
    const bytes = wire([0, 0, 0, 20], 'D', 'M', 'i', [0], 'ABC', [0], '{auth_type}', [0]);
    expect(decodeCommand(packetOf(bytes))).toEqual({ type: 'macro', stage: Command.MAIL, macros: [['i', 'ABC']] });
    expect(decodeCommand(packetOf(wire([0, 0, 0, 4], 'D', 'R', 'i', [0])))).toEqual({
      type: 'macro',
      stage: Command.RCPT,
      macros: [],
    });
  });

  it('MACRO: empty values are kept', () => {
    checkCommand(
      { type: 'macro', stage: Command.BODYEOB, macros: [['i', '']] },
      wire([0, 0, 0, 5], 'D', 'E', 'i', [0], [0]),
    );
  });

  it('every command code round-trips through its constant', () => {
    const samples: MilterCommand[] = [
      { type: 'optneg', version: 6, actions: 1, protocol: 2 },
      { type: 'macro', stage: Command.DATA, macros: [] },
      { type: 'connect', hostname: 'h', family: 'inet', port: 1, address: 'a' },
      { type: 'helo', name: 'h' },
      { type: 'mail', args: ['<>'] },
      { type: 'rcpt', args: ['<a>'] },
      { type: 'data' },
      { type: 'header', name: 'n', value: 'v' },
      { type: 'eoh' },
      { type: 'body', chunk: Buffer.from('x') },
      { type: 'bodyeob', chunk: Buffer.alloc(0) },
      { type: 'abort' },
      { type: 'quit' },
      { type: 'quitNc' },
      { type: 'unknown', command: 'X' },
    ];
    expect(samples.map((c) => encodeCommand(c)[4])).toEqual(
      [
        Command.OPTNEG,
        Command.MACRO,
        Command.CONNECT,
        Command.HELO,
        Command.MAIL,
        Command.RCPT,
        Command.DATA,
        Command.HEADER,
        Command.EOH,
        Command.BODY,
        Command.BODYEOB,
        Command.ABORT,
        Command.QUIT,
        Command.QUIT_NC,
        Command.UNKNOWN,
      ].map(Number),
    );
    for (const c of samples) expect(decodeCommand(packetOf(encodeCommand(c)))).toEqual(c);
  });
});

describe('commands: malformed payloads', () => {
  const bad = (code: string, payload: readonly number[] | string): unknown => {
    try {
      decodeCommand({ code: code.charCodeAt(0), payload: wire(payload) });
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it.each([
    ['OPTNEG shorter than 12 bytes', 'O', [0, 0, 0, 6, 0, 0, 1]],
    ['MACRO without a stage byte', 'D', []],
    ['CONNECT host name without NUL', 'C', 'host'],
    ['CONNECT with an unknown family', 'C', 'h\u00004\u0000'.replace('4', 'X')],
    ['CONNECT truncated before the port', 'C', 'h\u00004\u0001'],
    ['MAIL without an address', 'M', []],
    ['RCPT without an address', 'R', []],
    ['HEADER name without NUL', 'L', 'Subject'],
    ['HEADER empty payload', 'L', []],
  ] as const)('%s is a PayloadError', (_what, code, payload) => {
    const err = bad(code, payload);
    expect(err).toBeInstanceOf(PayloadError);
  });

  it('an unknown code is an UnknownCommandError (a PayloadError) carrying the code', () => {
    const err = bad('z', []);
    expect(err).toBeInstanceOf(UnknownCommandError);
    expect(err).toBeInstanceOf(PayloadError);
    expect((err as UnknownCommandError).code).toBe(0x7a);
    expect((err as Error).message).toContain('0x7a');
    // response-only codes are not commands either
    expect(bad('c', [])).toBeInstanceOf(UnknownCommandError);
    expect(bad('l', [])).toBeInstanceOf(UnknownCommandError);
  });
});

describe('responses (filter → MTA), byte-exact', () => {
  it.each([
    ['continue', 'c'],
    ['accept', 'a'],
    ['reject', 'r'],
    ['tempfail', 't'],
    ['discard', 'd'],
    ['skip', 's'],
    ['progress', 'p'],
    ['shutdown', '4'],
    ['connFail', 'f'],
  ] as const)('%s is the bare code %s', (type, code) => {
    checkResponse({ type }, wire([0, 0, 0, 1], code));
  });

  it('payload-less responses ignore a stray payload', () => {
    expect(decodeResponse(packetOf(wire([0, 0, 0, 3], 'c', 'xy')))).toEqual({ type: 'continue' });
  });

  it("OPTNEG reply: pymilter's 6, 0x1FF, 0x1742", () => {
    checkResponse(
      { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1742, macroLists: new Map() },
      wire([0, 0, 0, 13], 'O', [0, 0, 0, 6], [0, 0, 1, 0xff], [0, 0, 0x17, 0x42]),
    );
  });

  it("OPTNEG reply: OpenDKIM's 6, 0x111, 0x100702", () => {
    checkResponse(
      { type: 'optneg', version: 6, actions: 0x111, protocol: 0x100702, macroLists: new Map() },
      wire([0, 0, 0, 13], 'O', [0, 0, 0, 6], [0, 0, 1, 0x11], [0, 0x10, 0x07, 0x02]),
    );
  });

  it('OPTNEG reply with macro lists: 00000000 "j {client_addr}" 00', () => {
    // 12 + u32 4 + "j {client_addr}\0" 16 = 32, len 33
    checkResponse(
      { type: 'optneg', version: 6, actions: 0x100, protocol: 0, macroLists: new Map([[0, 'j {client_addr}']]) },
      wire([0, 0, 0, 33], 'O', [0, 0, 0, 6], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0], 'j {client_addr}', [0]),
    );
  });

  it('OPTNEG reply with several macro lists, EOM (5) and EOH (6) ids, an empty list', () => {
    // 12 + (4 + "i\0" 2) + (4 + "{msg_id}\0" 9) + (4 + "\0" 1) = 36, len 37
    checkResponse(
      {
        type: 'optneg',
        version: 6,
        actions: 0x1ff,
        protocol: 0,
        macroLists: new Map([
          [5, 'i'],
          [6, '{msg_id}'],
          [2, ''],
        ]),
      },
      wire(
        [0, 0, 0, 37],
        'O',
        [0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0, 0, 0],
        [0, 0, 0, 5],
        'i',
        [0],
        [0, 0, 0, 6],
        '{msg_id}',
        [0],
        [0, 0, 0, 2],
        [0],
      ),
    );
  });

  it('REPLYCODE: single line', () => {
    // "550 5.7.1 Go away\0" 18, len 19
    checkResponse({ type: 'replycode', text: '550 5.7.1 Go away' }, wire([0, 0, 0, 19], 'y', '550 5.7.1 Go away', [0]));
  });

  it('REPLYCODE: multi-line from a reply, CRLF between lines, none at the end', () => {
    // "550-5.7.1 first\r\n" 17 + "550 5.7.1 second" 16 + NUL = 34, len 35
    const bytes = wire([0, 0, 0, 35], 'y', '550-5.7.1 first\r\n550 5.7.1 second', [0]);
    const r = responseForReply(reject(550, '5.7.1', ['first', 'second']));
    checkResponse(r, bytes, { type: 'replycode', text: '550-5.7.1 first\r\n550 5.7.1 second' });
  });

  it('REPLYCODE: % is escaped as %%', () => {
    // "451 4.7.1 100%% busy\0" 21, len 22
    const r = responseForReply(tempfail(451, '4.7.1', '100% busy'));
    checkResponse(r, wire([0, 0, 0, 22], 'y', '451 4.7.1 100%% busy', [0]));
  });

  it('QUARANTINE', () => {
    checkResponse({ type: 'quarantine', reason: 'held' }, wire([0, 0, 0, 6], 'q', 'held', [0]));
  });

  it('ADDHEADER, and with an empty value', () => {
    // "X-A\0" 4 + "v\0" 2 = 6, len 7
    checkResponse({ type: 'addHeader', name: 'X-A', value: 'v' }, wire([0, 0, 0, 7], 'h', 'X-A', [0], 'v', [0]));
    checkResponse({ type: 'addHeader', name: 'X-A', value: '' }, wire([0, 0, 0, 6], 'h', 'X-A', [0], [0]));
  });

  it('INSHEADER: u32 index 0, leading space kept (OpenDKIM with HDR_LEADSPC)', () => {
    // 4 + "DKIM-Signature\0" 15 + " v=1\0" 5 = 24, len 25
    checkResponse(
      { type: 'insertHeader', index: 0, name: 'DKIM-Signature', value: ' v=1' },
      wire([0, 0, 0, 25], 'i', [0, 0, 0, 0], 'DKIM-Signature', [0], ' v=1', [0]),
    );
  });

  it('INSHEADER: a large index', () => {
    checkResponse(
      { type: 'insertHeader', index: 0x01020304, name: 'X', value: 'y' },
      wire([0, 0, 0, 9], 'i', [1, 2, 3, 4], 'X', [0], 'y', [0]),
    );
  });

  it('CHGHEADER: index 1 with an empty value deletes (00000001 "X-Gone" 00 00)', () => {
    // 4 + "X-Gone\0" 7 + "\0" = 12, len 13
    checkResponse(
      { type: 'changeHeader', index: 1, name: 'X-Gone', value: '' },
      wire([0, 0, 0, 13], 'm', [0, 0, 0, 1], 'X-Gone', [0], [0]),
    );
    checkResponse(
      { type: 'changeHeader', index: 2, name: 'Subject', value: 'new' },
      wire([0, 0, 0, 17], 'm', [0, 0, 0, 2], 'Subject', [0], 'new', [0]),
    );
  });

  it('REPLBODY: raw chunk', () => {
    checkResponse({ type: 'replaceBody', chunk: Buffer.from('new\r\n') }, wire([0, 0, 0, 6], 'b', 'new\r\n'));
    checkResponse({ type: 'replaceBody', chunk: Buffer.alloc(0) }, wire([0, 0, 0, 1], 'b'));
  });

  it('ADDRCPT and DELRCPT', () => {
    checkResponse({ type: 'addRecipient', recipient: '<n@x>' }, wire([0, 0, 0, 7], '+', '<n@x>', [0]));
    checkResponse({ type: 'deleteRecipient', recipient: '<o@x>' }, wire([0, 0, 0, 7], '-', '<o@x>', [0]));
  });

  it('ADDRCPT_PAR: recipient and args as one string', () => {
    // "<n@x>\0" 6 + "NOTIFY=NEVER ORCPT=rfc822;n@x\0" 30 = 36, len 37
    checkResponse(
      { type: 'addRecipientPar', recipient: '<n@x>', args: 'NOTIFY=NEVER ORCPT=rfc822;n@x' },
      wire([0, 0, 0, 37], '2', '<n@x>', [0], 'NOTIFY=NEVER ORCPT=rfc822;n@x', [0]),
    );
  });

  it('ADDRCPT_PAR without args sends the recipient only', () => {
    checkResponse({ type: 'addRecipientPar', recipient: '<n@x>', args: '' }, wire([0, 0, 0, 7], '2', '<n@x>', [0]));
  });

  it('CHGFROM with and without args', () => {
    checkResponse({ type: 'changeSender', sender: '<f@x>', args: '' }, wire([0, 0, 0, 7], 'e', '<f@x>', [0]));
    // "<f@x>\0" 6 + "RET=HDRS ENVID=1\0" 17 = 23, len 24
    checkResponse(
      { type: 'changeSender', sender: '<f@x>', args: 'RET=HDRS ENVID=1' },
      wire([0, 0, 0, 24], 'e', '<f@x>', [0], 'RET=HDRS ENVID=1', [0]),
    );
  });

  it('the response codes are those of mfdef.h', () => {
    expect(String.fromCharCode(...Object.values(Response)).split('').sort().join('')).toBe('+-24Oabcdefhilmpqrsty');
    expect(FINAL_RESPONSES.has('replycode')).toBe(true);
    expect(FINAL_RESPONSES.has('quarantine')).toBe(false);
    expect(FINAL_RESPONSES.has('progress')).toBe(false);
  });
});

describe('responses: malformed payloads', () => {
  const bad = (code: string, payload: readonly number[] | string): unknown => {
    try {
      decodeResponse({ code: code.charCodeAt(0), payload: wire(payload) });
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it.each([
    ['OPTNEG shorter than 12 bytes', 'O', [0, 0, 0, 6]],
    ['OPTNEG macro list truncated before its stage id', 'O', [0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['OPTNEG macro list without NUL', 'O', [0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x6a]],
    ['ADDHEADER name without NUL', 'h', 'X-A'],
    ['INSHEADER index missing', 'i', [0, 0, 0]],
    ['INSHEADER name without NUL', 'i', [0, 0, 0, 0, 0x58]],
    ['CHGHEADER index missing', 'm', []],
    ['ADDRCPT without an address', '+', []],
    ['DELRCPT without an address', '-', []],
    ['ADDRCPT_PAR without a recipient', '2', []],
    ['CHGFROM without a sender', 'e', []],
  ] as const)('%s is a PayloadError', (_what, code, payload) => {
    expect(bad(code, payload)).toBeInstanceOf(PayloadError);
  });

  it('SETSYMLIST is never a packet: decoding it is an UnknownResponseError', () => {
    const err = bad('l', []);
    expect(err).toBeInstanceOf(UnknownResponseError);
    expect((err as UnknownResponseError).code).toBe(0x6c);
  });

  it('command-only codes are unknown responses', () => {
    expect(bad('C', [])).toBeInstanceOf(UnknownResponseError);
  });

  it('REPLYCODE and QUARANTINE without NUL are tolerated', () => {
    expect(decodeResponse({ code: 0x79, payload: wire('451 4.0.0 x') })).toEqual({ type: 'replycode', text: '451 4.0.0 x' });
    expect(decodeResponse({ code: 0x71, payload: wire([]) })).toEqual({ type: 'quarantine', reason: '' });
  });
});

describe('text helpers', () => {
  it('splitStrings: NUL-terminated parts, a missing final NUL tolerated, empty parts kept', () => {
    expect(splitStrings(wire('a', [0], 'b', [0])).map(String)).toEqual(['a', 'b']);
    expect(splitStrings(wire('a', [0], 'b')).map(String)).toEqual(['a', 'b']);
    expect(splitStrings(wire([0, 0])).map(String)).toEqual(['', '']);
    expect(splitStrings(wire([]))).toEqual([]);
  });

  it('readCString returns the string and the offset after its NUL', () => {
    const [s, next] = readCString(wire('ab', [0], 'c'), 0, 'x');
    expect(s.toString()).toBe('ab');
    expect(next).toBe(3);
    expect(() => readCString(wire('ab'), 0, 'what')).toThrow(/what: string not NUL-terminated/);
  });

  it('decodeText: UTF-8 if valid, else Latin-1; encodeText is UTF-8', () => {
    expect(decodeText(Buffer.from([0xc3, 0xa9]))).toBe('é');
    expect(decodeText(Buffer.from([0xe9]))).toBe('é');
    expect(decodeText(Buffer.from([0xc3, 0x28]))).toBe('Ã(');
    expect(encodeText('é')).toEqual(Buffer.from([0xc3, 0xa9]));
  });

  it('cstrings accepts strings and raw buffers', () => {
    expect(cstrings('a', Buffer.from([0xff]))).toEqual(wire('a', [0, 0xff, 0]));
  });
});

describe('PacketDecoder', () => {
  const c = encodeCommand({ type: 'helo', name: 'x' });
  const d = encodeCommand({ type: 'data' });

  it('decodes coalesced packets in one chunk', () => {
    const got = new PacketDecoder(65535).push(Buffer.concat([c, d, c]));
    expect(got.map((p) => p.code)).toEqual([0x48, 0x54, 0x48]);
    expect(got[0]!.payload).toEqual(Buffer.from('x\0'));
  });

  it('waits for the rest of a split packet, byte by byte', () => {
    const dec = new PacketDecoder(65535);
    const all = Buffer.concat([c, d]);
    const got: Packet[] = [];
    for (let i = 0; i < all.length; i++) got.push(...dec.push(all.subarray(i, i + 1)));
    expect(got.map((p) => p.code)).toEqual([0x48, 0x54]);
    expect(dec.pending).toBe(0);
  });

  it('reports pending bytes of an incomplete packet', () => {
    const dec = new PacketDecoder(65535);
    expect(dec.push(c.subarray(0, 3))).toEqual([]);
    expect(dec.pending).toBe(3);
    expect(dec.push(Buffer.concat([c.subarray(3), d.subarray(0, 2)])).map((p) => p.code)).toEqual([0x48]);
    expect(dec.pending).toBe(2);
  });

  it('accepts empty chunks', () => {
    const dec = new PacketDecoder(65535);
    expect(dec.push(Buffer.alloc(0))).toEqual([]);
    expect(dec.push(c).map((p) => p.code)).toEqual([0x48]);
    expect(dec.push(Buffer.alloc(0))).toEqual([]);
  });

  it('length 0 is a FrameError', () => {
    expect(() => new PacketDecoder(65535).push(wire([0, 0, 0, 0, 0x41]))).toThrow(FrameError);
  });

  it('a payload of exactly the maximum is accepted, one more byte is a FrameError', () => {
    const ok = encodePacket(0x42, Buffer.alloc(65535));
    expect(new PacketDecoder(65535).push(ok)[0]!.payload.length).toBe(65535);
    // the length alone is enough to refuse, before the payload arrives
    expect(() => new PacketDecoder(65535).push(wire([0, 1, 0, 1], 'B'))).toThrow(FrameError);
    expect(() => new PacketDecoder(65535).push(wire([0xff, 0xff, 0xff, 0xff], 'B'))).toThrow(/exceeds/);
  });

  it('setMaxPayload raises the limit (MDS)', () => {
    const dec = new PacketDecoder(65535);
    dec.setMaxPayload(262143);
    const big = encodePacket(0x42, Buffer.alloc(100000, 1));
    expect(dec.push(big)[0]!.payload.length).toBe(100000);
  });

  it('a FrameError after a split header is still detected', () => {
    const dec = new PacketDecoder(10);
    expect(dec.push(wire([0, 0]))).toEqual([]);
    expect(() => dec.push(wire([0, 20], 'B'))).toThrow(FrameError);
  });

  it('encodePacket writes the length including the code byte', () => {
    expect(encodePacket(0x63)).toEqual(wire([0, 0, 0, 1], 'c'));
    expect(encodePacket(0x42, Buffer.from('ab'))).toEqual(wire([0, 0, 0, 3], 'B', 'ab'));
  });
});
