/**
 * The Dovecot password schemes accepted from an imported passwd-file, checked but never written:
 * {BLF-CRYPT} (bcryptjs), {ARGON2ID} (@noble/hashes, a PHC string), {SSHA512}, {SHA512} and {PLAIN}.
 * {SHA512-CRYPT} has its own file. The slow ones run async and yield (bcryptjs in steps, noble's argon2
 * every few milliseconds), so a login never blocks the event loop. Both are loaded at the first such login:
 * a server whose users all have Mailgate's own scrypt hashes never needs them in memory.
 */
import { createHash } from 'node:crypto';
import { sameBytes } from './password-compare.js';

/** bcrypt `$2a$`/`$2b$`/`$2y$` (Dovecot writes 2y), cost 04..31, 53 characters of salt and hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
/** Costs above this are refused on import: each login would take seconds. */
const BCRYPT_MAX_COST = 16;

export function bcryptProblem(hash: string): string | undefined {
  const m = BCRYPT.exec(hash);
  if (m === null) return 'not a BLF-CRYPT hash ($2y$NN$ and 53 characters)';
  const cost = Number(m[1]);
  if (cost < 4 || cost > BCRYPT_MAX_COST) return `BLF-CRYPT cost ${cost} out of range (4..${BCRYPT_MAX_COST})`;
  return undefined;
}

export async function verifyBcrypt(password: string, hash: string): Promise<boolean> {
  // bcryptjs compares in constant time itself; it reads only the first 72 bytes of the password, as bcrypt does.
  const { default: bcrypt } = await import('bcryptjs');
  return bcrypt.compare(password, hash);
}

export interface Argon2idHash {
  readonly version: number;
  readonly m: number;
  readonly t: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Memory cost limit (KiB) on import: 256 MiB per login is already more than a mail server should spend. */
const ARGON2_MAX_M = 262_144;
const ARGON2_MAX_T = 16;
const ARGON2_MAX_P = 16;

/** Parses the PHC string `$argon2id$v=19$m=65536,t=3,p=1$salt$hash`; a string saying why when it is not one. */
export function parseArgon2id(text: string): Argon2idHash | string {
  const m = /^\$argon2id\$(?:v=(\d+)\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
  if (m === null) return 'not an ARGON2ID hash ($argon2id$v=19$m=N,t=N,p=N$salt$hash)';
  const version = m[1] === undefined ? 0x10 : Number(m[1]);
  const params = { m: Number(m[2]), t: Number(m[3]), p: Number(m[4]) };
  if (version !== 0x10 && version !== 0x13) return `ARGON2ID version ${version} unknown (16 or 19)`;
  if (params.t < 1 || params.t > ARGON2_MAX_T || params.p < 1 || params.p > ARGON2_MAX_P) {
    return `ARGON2ID parameters out of range (t 1..${ARGON2_MAX_T}, p 1..${ARGON2_MAX_P})`;
  }
  if (params.m < 8 * params.p || params.m > ARGON2_MAX_M) return `ARGON2ID memory cost out of range (8p..${ARGON2_MAX_M} KiB)`;
  const salt = Buffer.from(m[5] ?? '', 'base64');
  const hash = Buffer.from(m[6] ?? '', 'base64');
  if (salt.length < 8) return 'ARGON2ID salt shorter than 8 bytes';
  if (hash.length < 4) return 'ARGON2ID hash shorter than 4 bytes';
  return { version, ...params, salt, hash };
}

export async function verifyArgon2id(password: Uint8Array, stored: Argon2idHash): Promise<boolean> {
  const { argon2idAsync } = await import('@noble/hashes/argon2.js');
  const key = await argon2idAsync(password, stored.salt, {
    t: stored.t,
    m: stored.m,
    p: stored.p,
    version: stored.version,
    dkLen: stored.hash.length, // noble's default memory ceiling (1 GiB) is above ARGON2_MAX_M
  });
  return sameBytes(key, stored.hash);
}

/** {SSHA512}: base64 of SHA-512(password ‖ salt) ‖ salt. */
export function ssha512Problem(data: string): string | undefined {
  const raw = Buffer.from(data, 'base64');
  return /^[A-Za-z0-9+/]+=*$/.test(data) && raw.length > 64 ? undefined : 'not an SSHA512 value (base64 of 64 bytes of hash and a salt)';
}

export function verifySsha512(password: Uint8Array, data: string): boolean {
  const raw = Buffer.from(data, 'base64');
  const salt = raw.subarray(64);
  return sameBytes(createHash('sha512').update(password).update(salt).digest(), raw.subarray(0, 64));
}

/** {SHA512}: base64 of SHA-512(password), unsalted (Dovecot's, kept for imports only). */
export function sha512Problem(data: string): string | undefined {
  return /^[A-Za-z0-9+/]+=*$/.test(data) && Buffer.from(data, 'base64').length === 64 ? undefined : 'not a SHA512 value (base64 of 64 bytes)';
}

export function verifySha512(password: Uint8Array, data: string): boolean {
  return sameBytes(createHash('sha512').update(password).digest(), Buffer.from(data, 'base64'));
}
