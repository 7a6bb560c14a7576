/**
 * Stored passwords: `{SCHEME}data`, Dovecot's notation, so that a hash imported from a Dovecot
 * passwd-file is kept as it was and a new one says how it was made. New passwords get {SCRYPT}; the
 * imported schemes are only verified. Every check is async and never throws: a malformed row is a
 * failed login, not a crash.
 */
import { parseArgon2id, bcryptProblem, sha512Problem, ssha512Problem, verifyArgon2id, verifyBcrypt, verifySha512, verifySsha512 } from './password-imported.js';
import { sameText } from './password-compare.js';
import { hashScrypt, parseScrypt, verifyScrypt } from './password-scrypt.js';
import { parseSha512Crypt, ROUNDS_LIMIT, sha512Crypt } from './password-sha512-crypt.js';

export const PASSWORD_SCHEMES = ['SCRYPT', 'SHA512-CRYPT', 'BLF-CRYPT', 'ARGON2ID', 'SSHA512', 'SHA512', 'PLAIN'] as const;
export type PasswordScheme = (typeof PASSWORD_SCHEMES)[number];

/** Dovecot's other names for the same schemes. */
const ALIASES: Readonly<Record<string, PasswordScheme>> = { CLEAR: 'PLAIN', CLEARTEXT: 'PLAIN' };

/** `{SCRYPT}...` for a new password. */
export async function hashPassword(password: string): Promise<string> {
  return `{SCRYPT}${await hashScrypt(Buffer.from(password, 'utf8'))}`;
}

/**
 * A password field from a passwd-file (or any stored value) in the stored form `{SCHEME}data`, checked:
 * the scheme known and the data well-formed with bounded costs. A bare crypt string (`$6$...`, `$2y$...`),
 * as Dovecot reads with its default scheme CRYPT, gets its scheme written out. A string saying why when
 * it cannot be used.
 */
export function normaliseStoredPassword(text: string): { stored: string; scheme: PasswordScheme } | string {
  const m = /^\{([A-Za-z0-9.-]+)\}/.exec(text);
  const named = m?.[1]?.toUpperCase();
  const data = m === null ? text : text.slice(m[0].length);
  let scheme: PasswordScheme | undefined;
  if (named === undefined || named === 'CRYPT') {
    scheme = cryptScheme(data);
    if (scheme === undefined) {
      return named === undefined
        ? 'no {SCHEME} prefix, and not a SHA512-CRYPT ($6$), BLF-CRYPT ($2y$) or ARGON2ID hash'
        : '{CRYPT}: only $6$ (SHA512-CRYPT) and $2y$ (BLF-CRYPT) hashes are supported';
    }
  } else {
    scheme = ALIASES[named] ?? PASSWORD_SCHEMES.find((s) => s === named);
    if (scheme === undefined) return `password scheme {${named}} is not supported (supported: ${PASSWORD_SCHEMES.join(', ')})`;
  }
  const why = dataProblem(scheme, data);
  return why === undefined ? { stored: `{${scheme}}${data}`, scheme } : why;
}

/** The scheme of a stored value, or undefined when it is not in the stored form. */
export function schemeOf(stored: string): PasswordScheme | undefined {
  const m = /^\{([A-Z0-9-]+)\}/.exec(stored);
  return PASSWORD_SCHEMES.find((s) => s === m?.[1]);
}

/** Whether `password` matches the stored value; false for a malformed or unknown stored value. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  try {
    const scheme = schemeOf(stored);
    if (scheme === undefined) return false;
    const data = stored.slice(scheme.length + 2);
    if (dataProblem(scheme, data) !== undefined) return false;
    const bytes = Buffer.from(password, 'utf8');
    switch (scheme) {
      case 'SCRYPT': {
        const parsed = parseScrypt(data);
        return typeof parsed !== 'string' && (await verifyScrypt(bytes, parsed));
      }
      case 'SHA512-CRYPT': {
        const parsed = parseSha512Crypt(data);
        return typeof parsed !== 'string' && sameText(await sha512Crypt(bytes, parsed), data);
      }
      case 'BLF-CRYPT':
        return await verifyBcrypt(password, data);
      case 'ARGON2ID': {
        const parsed = parseArgon2id(data);
        return typeof parsed !== 'string' && (await verifyArgon2id(bytes, parsed));
      }
      case 'SSHA512':
        return verifySsha512(bytes, data);
      case 'SHA512':
        return verifySha512(bytes, data);
      case 'PLAIN':
        return sameText(password, data);
    }
  } catch {
    return false;
  }
}

function cryptScheme(data: string): PasswordScheme | undefined {
  if (data.startsWith('$6$')) return 'SHA512-CRYPT';
  if (/^\$2[aby]\$/.test(data)) return 'BLF-CRYPT';
  if (data.startsWith('$argon2id$')) return 'ARGON2ID';
  if (data.startsWith('$scrypt$')) return 'SCRYPT';
  return undefined;
}

function dataProblem(scheme: PasswordScheme, data: string): string | undefined {
  const parsed = (r: object | string) => (typeof r === 'string' ? r : undefined);
  switch (scheme) {
    case 'SCRYPT':
      return parsed(parseScrypt(data));
    case 'SHA512-CRYPT': {
      const s = parseSha512Crypt(data);
      if (typeof s === 'string') return s;
      return s.rounds > ROUNDS_LIMIT ? `SHA512-CRYPT rounds ${s.rounds} above ${ROUNDS_LIMIT}` : undefined;
    }
    case 'BLF-CRYPT':
      return bcryptProblem(data);
    case 'ARGON2ID':
      return parsed(parseArgon2id(data));
    case 'SSHA512':
      return ssha512Problem(data);
    case 'SHA512':
      return sha512Problem(data);
    case 'PLAIN':
      return /[\r\n\0]/.test(data) ? 'a {PLAIN} password with a line break or NUL' : undefined;
  }
}
