/**
 * Differential test of COMPRESS=DEFLATE (RFC 4978): one raw client script (its own zlib, test/imap/harness/
 * deflate-client.ts) against Mailgate (`mailgate start`) and the private Dovecot 2.3 with imap_zlib, the
 * replies compared where the RFC leaves no choice: each tagged reply's tag, status and response code (the
 * human text is free), and which capability lists hold COMPRESS=DEFLATE. Covered: COMPRESS before login,
 * the capability before and after login, a missing, quoted or extra argument, COMPRESS DEFLATE (lower case),
 * then compressed both ways: a second COMPRESS, NOOP, SELECT, LOGOUT.
 *
 * Allow-list (one deliberate difference): an unknown mechanism (`COMPRESS X-BOGUS`) is BAD on Mailgate,
 * RFC 4978 §3's "arguments invalid", where Dovecot answers `NO Unknown compression mechanism`.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeflateClient } from '../imap/harness/deflate-client.js';
import { startDovecotTarget, startMailgateTarget, type ImapTarget } from './harness/imap-targets.js';

/** What the RFC fixes in a reply line: tag, status, response code name (untagged lines: kept whole up to the text). */
function shape(line: string): string {
  const m = /^(\S+) (OK|NO|BAD|BYE|PREAUTH)(?: \[([^\] ]+)[^\]]*\])?/.exec(line);
  if (m === null) return line.startsWith('* CAPABILITY') ? '* CAPABILITY' : `untagged ${line.split(' ')[1] ?? ''}`;
  // LOGIN's capabilities come as a CAPABILITY code (Mailgate) or an untagged CAPABILITY (Dovecot): either is
  // RFC 3501's choice; `announces` compares what they list.
  return `${m[1]} ${m[2]}${m[3] === undefined || m[3] === 'CAPABILITY' ? '' : ` [${m[3]}]`}`;
}

interface Transcript {
  /** Tagged reply shapes, in order. */
  readonly tagged: string[];
  /** Per capability announcement (greeting, CAPABILITY responses, LOGIN's code): whether COMPRESS=DEFLATE is in it. */
  readonly announces: boolean[];
  readonly bogus: string;
  /** Compressed octets received after the switch. */
  readonly compressedIn: number;
}

async function script(port: number, user: string, password: string): Promise<Transcript> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const c = new DeflateClient(socket);
  const tagged: string[] = [];
  const announces: boolean[] = [];
  const note = (lines: string[]): void => {
    for (const l of lines) if (/CAPABILITY/.test(l)) announces.push(/ COMPRESS=DEFLATE[ \]]|COMPRESS=DEFLATE$/.test(l));
    tagged.push(shape(lines.at(-1)!));
  };
  const cmd = async (tag: string, text: string): Promise<string[]> => {
    c.send(`${tag} ${text}\r\n`);
    const lines = await c.untilTagged(tag, 10_000);
    note(lines);
    return lines;
  };
  try {
    const greeting = await c.line();
    announces.push(greeting.includes('COMPRESS=DEFLATE'));
    await cmd('a1', 'CAPABILITY');
    await cmd('a2', 'COMPRESS DEFLATE');
    await cmd('a3', `LOGIN "${user}" "${password}"`);
    await cmd('a4', 'CAPABILITY');
    await cmd('a5', 'COMPRESS');
    await cmd('a6', 'COMPRESS "DEFLATE"');
    await cmd('a7', 'COMPRESS DEFLATE EXTRA');
    c.send('a8 COMPRESS X-BOGUS\r\n');
    const bogus = shape((await c.untilTagged('a8', 10_000)).at(-1)!);
    await cmd('a9', 'COMPRESS deflate');
    c.startCompress();
    await cmd('b1', 'COMPRESS DEFLATE');
    await cmd('b2', 'NOOP');
    await cmd('b3', 'SELECT INBOX');
    await cmd('b4', 'LOGOUT');
    return { tagged, announces, bogus, compressedIn: c.compressedChunks.reduce((n, b) => n + b.length, 0) };
  } finally {
    c.destroy();
  }
}

describe('COMPRESS=DEFLATE: Mailgate against Dovecot 2.3 (imap_zlib)', () => {
  let mailgate: ImapTarget;
  let dovecot: ImapTarget;
  beforeAll(async () => {
    [mailgate, dovecot] = await Promise.all([startMailgateTarget(), startDovecotTarget()]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([mailgate?.stop(), dovecot?.stop()]);
  });

  it('answers the COMPRESS scenario as Dovecot does (tags, statuses, codes, capability lists)', async () => {
    const ours = await script(mailgate.imapPort, mailgate.user, mailgate.password);
    const theirs = await script(dovecot.imapPort, dovecot.user, dovecot.password);
    expect(ours.tagged).toEqual(theirs.tagged);
    expect(ours.announces).toEqual(theirs.announces);
    // Not before login (greeting, a1), after it (LOGIN's code or untagged list, a4).
    expect(theirs.announces[0]).toBe(false);
    expect(theirs.announces.at(-1)).toBe(true);
    expect(ours.tagged).toEqual([
      'a1 OK',
      'a2 BAD',
      'a3 OK',
      'a4 OK',
      'a5 BAD',
      'a6 BAD',
      'a7 BAD',
      'a9 OK',
      'b1 NO [COMPRESSIONACTIVE]',
      'b2 OK',
      'b3 OK [READ-WRITE]',
      'b4 OK',
    ]);
    // The allow-listed difference.
    expect(ours.bogus).toBe('a8 BAD');
    expect(theirs.bogus).toBe('a8 NO');
    // Both really compressed what followed the switch.
    expect(ours.compressedIn).toBeGreaterThan(0);
    expect(theirs.compressedIn).toBeGreaterThan(0);
  });
});
