/**
 * SHA-512 crypt (`$6$`, Dovecot's {SHA512-CRYPT}, glibc's crypt(3)), to check hashes imported from a
 * Dovecot passwd-file. Written here from Ulrich Drepper's specification ("Unix crypt using SHA-256 and
 * SHA-512") because no maintained library for it is installed (the npm packages that have it are small
 * single-author wrappers; node:crypto has SHA-512 itself, which is all the algorithm needs). Only
 * verification uses it: new passwords are hashed with scrypt. Async, yielding to the event loop every
 * few hundred rounds, so that a hash with many rounds never blocks the server.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;
/** More rounds than this are refused on import: each login would cost seconds of CPU. */
export const ROUNDS_LIMIT = 10_000_000;
const ROUNDS_PER_YIELD = 500;

/** The byte triples of the final digest, in the order the specification encodes them. */
const ORDER: readonly (readonly [number, number, number])[] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

export interface Sha512CryptSetting {
  readonly rounds: number;
  /** Whether `rounds=N$` was written (it is kept in the output then, even when N is the default). */
  readonly explicitRounds: boolean;
  readonly salt: string;
  /** The 86-character encoded digest. */
  readonly digest: string;
}

/** Parses `$6$[rounds=N$]salt$digest`; a string saying why when it is not one. */
export function parseSha512Crypt(hash: string): Sha512CryptSetting | string {
  const m = /^\$6\$(?:rounds=(\d{1,10})\$)?([^$]*)\$([./0-9A-Za-z]{86})$/.exec(hash);
  if (m === null) return 'not a SHA512-CRYPT hash ($6$[rounds=N$]salt$ and 86 characters)';
  const given = m[1];
  const rounds = given === undefined ? DEFAULT_ROUNDS : Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Number(given)));
  const salt = (m[2] ?? '').slice(0, 16); // the specification truncates the salt to 16 characters
  return { rounds, explicitRounds: given !== undefined, salt, digest: m[3] ?? '' };
}

/** The full `$6$...` string for this password and setting (its `digest` is ignored). */
export async function sha512Crypt(password: Uint8Array, setting: Omit<Sha512CryptSetting, 'digest'>): Promise<string> {
  const p = Buffer.from(password);
  const s = Buffer.from(setting.salt, 'utf8');
  const sha = () => createHash('sha512');
  const b = sha().update(p).update(s).update(p).digest();
  const a = sha().update(p).update(s);
  a.update(repeat(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();
  const dp = sha();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pBytes = repeat(dp.digest(), p.length);
  const ds = sha();
  for (let i = 0; i < 16 + (c[0] ?? 0); i++) ds.update(s);
  const sBytes = repeat(ds.digest(), s.length);
  for (let i = 0; i < setting.rounds; i++) {
    const h = sha();
    h.update(i & 1 ? pBytes : c);
    if (i % 3 !== 0) h.update(sBytes);
    if (i % 7 !== 0) h.update(pBytes);
    h.update(i & 1 ? c : pBytes);
    c = h.digest();
    if (i % ROUNDS_PER_YIELD === ROUNDS_PER_YIELD - 1) await yieldToLoop();
  }
  let out = '';
  for (const [x, y, z] of ORDER) out += encode24(c[x] ?? 0, c[y] ?? 0, c[z] ?? 0, 4);
  out += encode24(0, 0, c[63] ?? 0, 2);
  const rounds = setting.explicitRounds ? `rounds=${setting.rounds}$` : '';
  return `$6$${rounds}${setting.salt}$${out}`;
}

/** `digest` repeated and cut to `length` bytes (the specification's "sequence P" and "sequence S"). */
function repeat(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, length - i));
  return out;
}

function encode24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ALPHABET[w & 0x3f];
    w >>= 6;
  }
  return s;
}
