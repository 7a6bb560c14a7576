/**
 * New passwords: scrypt from node:crypto (it runs on libuv's thread pool, so hashing never blocks the
 * event loop), stored self-describing as `{SCRYPT}$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (the PHC string
 * form passlib uses; base64 without padding), so that the cost can be raised later while old hashes still
 * verify with their own parameters.
 */
import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { sameBytes } from './password-compare.js';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/**
 * N = 2^15, r = 8: 32 MiB and some tens of milliseconds per check. OWASP suggests 2^17 (128 MiB); a mail
 * server checks logins from many clients at once on a thread pool of four, so the memory is kept lower.
 */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Stored parameters beyond these are refused (a tampered or hostile row must not exhaust memory). */
const MAX = { ln: 20, r: 32, p: 16 };

interface ScryptHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Parses `$scrypt$ln=..,r=..,p=..$salt$hash`; a string saying why when it is not one. */
export function parseScrypt(text: string): ScryptHash | string {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
  if (m === null) return 'not a SCRYPT hash ($scrypt$ln=N,r=N,p=N$salt$hash)';
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.ln < 1 || params.ln > MAX.ln || params.r < 1 || params.r > MAX.r || params.p < 1 || params.p > MAX.p) {
    return `SCRYPT parameters out of range (ln 1..${MAX.ln}, r 1..${MAX.r}, p 1..${MAX.p})`;
  }
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const hash = Buffer.from(m[5] ?? '', 'base64');
  if (hash.length < 16) return 'SCRYPT hash shorter than 16 bytes';
  return { params, salt, hash };
}

export async function hashScrypt(password: Uint8Array, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

export async function verifyScrypt(password: Uint8Array, stored: ScryptHash): Promise<boolean> {
  return sameBytes(await derive(password, stored.salt, stored.params, stored.hash.length), stored.hash);
}

function derive(password: Uint8Array, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // Node refuses a computation needing more than maxmem (default 32 MiB, exactly N = 2^15, r = 8).
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
