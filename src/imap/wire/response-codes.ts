/**
 * The response codes (the bracketed `[CODE args]` of a status response) Mailgate may send: RFC 3501,
 * UIDPLUS (RFC 4315), the extended codes of RFC 5530, CONDSTORE/QRESYNC (RFC 7162), QUOTA (RFC 9208), and
 * TOOBIG (RFC 4469, which LITERAL+/LITERAL- of RFC 7888 use for a literal over the limit), COMPRESSIONACTIVE
 * (RFC 4978).
 */

export const RFC3501_CODES = [
  'ALERT',
  'BADCHARSET',
  'CAPABILITY',
  'PARSE',
  'PERMANENTFLAGS',
  'READ-ONLY',
  'READ-WRITE',
  'TRYCREATE',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
] as const;

export const UIDPLUS_CODES = ['APPENDUID', 'COPYUID', 'UIDNOTSTICKY'] as const;

export const RFC5530_CODES = [
  'UNAVAILABLE',
  'AUTHENTICATIONFAILED',
  'AUTHORIZATIONFAILED',
  'EXPIRED',
  'PRIVACYREQUIRED',
  'CONTACTADMIN',
  'NOPERM',
  'INUSE',
  'EXPUNGEISSUED',
  'CORRUPTION',
  'SERVERBUG',
  'CLIENTBUG',
  'CANNOT',
  'LIMIT',
  'OVERQUOTA',
  'ALREADYEXISTS',
  'NONEXISTENT',
] as const;

export const CONDSTORE_CODES = ['HIGHESTMODSEQ', 'NOMODSEQ', 'MODIFIED', 'CLOSED'] as const;

/** RFC 9208 reuses OVERQUOTA (RFC 5530) in tagged NO and adds no other code; listed for completeness. */
export const QUOTA_CODES = ['OVERQUOTA'] as const;

export const LITERAL_CODES = ['TOOBIG'] as const;

export const COMPRESS_CODES = ['COMPRESSIONACTIVE'] as const;

export type ResponseCodeName =
  | (typeof RFC3501_CODES)[number]
  | (typeof UIDPLUS_CODES)[number]
  | (typeof RFC5530_CODES)[number]
  | (typeof CONDSTORE_CODES)[number]
  | (typeof QUOTA_CODES)[number]
  | (typeof LITERAL_CODES)[number]
  | (typeof COMPRESS_CODES)[number];

export const RESPONSE_CODES: ReadonlySet<ResponseCodeName> = new Set<ResponseCodeName>([
  ...RFC3501_CODES,
  ...UIDPLUS_CODES,
  ...RFC5530_CODES,
  ...CONDSTORE_CODES,
  ...QUOTA_CODES,
  ...LITERAL_CODES,
  ...COMPRESS_CODES,
]);

export function isResponseCodeName(name: string): name is ResponseCodeName {
  return RESPONSE_CODES.has(name as ResponseCodeName);
}
