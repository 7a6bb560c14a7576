/**
 * The queue file's codec, pure over bytes: a magic line, the envelope as length-prefixed JSON, then the
 * message exactly as received. The length prefix lets a reader take the envelope without scanning the
 * message, and a truncated or foreign file is refused with a QueueFileError, never a crash.
 *
 *   MAILGATE-QUEUE 1\n
 *   <byte length of the JSON>\n
 *   <JSON envelope>\n
 *   <message bytes>
 */
import type { DsnNotify, QueuedRecipient, SpoolInput } from '../store/spool.js';

export const MAGIC = 'MAILGATE-QUEUE 1\n';

/** What the queue keeps about a message besides its bytes: what the SMTP server handed over, and when. */
export interface Envelope extends Omit<SpoolInput, 'message' | 'hold'> {
  /** Arrival time, ms since the epoch (Postfix's arrival_time: the lifetimes count from here). */
  readonly arrival: number;
}

export class QueueFileError extends Error {
  override readonly name = 'QueueFileError';
}

/** The bytes before the message: magic, length, JSON, newline. */
export function encodeEnvelope(env: Envelope): Buffer {
  const json = Buffer.from(JSON.stringify(env), 'utf8');
  return Buffer.concat([Buffer.from(`${MAGIC}${json.length}\n`, 'latin1'), json, Buffer.from('\n', 'latin1')]);
}

/** The envelope and where the message starts, from the file's first bytes (all of them or a prefix). */
export function decodeEnvelope(buf: Buffer): { envelope: Envelope; bodyOffset: number } {
  if (buf.length < MAGIC.length || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new QueueFileError('not a queue file (bad magic line)');
  }
  const nl = buf.indexOf(0x0a, MAGIC.length);
  if (nl < 0 || nl - MAGIC.length > 12) throw new QueueFileError('truncated or bad envelope length');
  const lenText = buf.toString('latin1', MAGIC.length, nl);
  if (!/^[0-9]{1,12}$/.test(lenText)) throw new QueueFileError('bad envelope length');
  const len = Number(lenText);
  const start = nl + 1;
  const end = start + len;
  if (end + 1 > buf.length) throw new QueueFileError('truncated envelope');
  if (buf[end] !== 0x0a) throw new QueueFileError('envelope not followed by a newline');
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8', start, end));
  } catch {
    throw new QueueFileError('envelope is not JSON');
  }
  return { envelope: checkEnvelope(raw), bodyOffset: end + 1 };
}

/** The most bytes decodeEnvelope can need before it knows the length. */
export const ENVELOPE_PREFIX_MAX = MAGIC.length + 13;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NOTIFY_WORDS = new Set(['SUCCESS', 'FAILURE', 'DELAY']);

function checkNotify(v: unknown): DsnNotify | undefined {
  if (v === undefined) return undefined;
  if (v === 'NEVER') return 'NEVER';
  if (Array.isArray(v) && v.every((w) => typeof w === 'string' && NOTIFY_WORDS.has(w))) return v as DsnNotify;
  throw new QueueFileError('bad NOTIFY in envelope');
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new QueueFileError(`envelope field ${key} is not a string`);
  return v;
}

function optStr(o: Record<string, unknown>, key: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key);
}

function checkRecipient(v: unknown): QueuedRecipient {
  if (!isObject(v)) throw new QueueFileError('bad recipient in envelope');
  const orcpt = optStr(v, 'orcpt');
  const notify = checkNotify(v['notify']);
  return {
    address: str(v, 'address'),
    original: str(v, 'original'),
    ...(orcpt !== undefined ? { orcpt } : {}),
    ...(notify !== undefined ? { notify } : {}),
  };
}

function checkEnvelope(v: unknown): Envelope {
  if (!isObject(v)) throw new QueueFileError('envelope is not an object');
  const id = str(v, 'id');
  if (!/^[0-9A-Z]{10,}$/.test(id)) throw new QueueFileError('bad queue id in envelope');
  const arrival = v['arrival'];
  if (typeof arrival !== 'number' || !Number.isFinite(arrival)) throw new QueueFileError('bad arrival time');
  const recipients = v['recipients'];
  if (!Array.isArray(recipients) || recipients.length === 0) throw new QueueFileError('no recipients in envelope');
  const ret = v['ret'];
  if (ret !== undefined && ret !== 'FULL' && ret !== 'HDRS') throw new QueueFileError('bad RET in envelope');
  const envid = optStr(v, 'envid');
  return {
    id,
    sender: str(v, 'sender'),
    recipients: recipients.map(checkRecipient),
    ...(ret !== undefined ? { ret } : {}),
    ...(envid !== undefined ? { envid } : {}),
    client: str(v, 'client'),
    arrival,
  };
}
