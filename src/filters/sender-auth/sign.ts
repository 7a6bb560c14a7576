/** DKIM signing of one message (relaxed/relaxed) through mailauth; the DKIM-Signature value is returned. */
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import type { SigningKey } from './signing-keys.js';

export interface Signature {
  /** The field value without `DKIM-Signature:`, folded with a bare LF (milter style). */
  readonly value: string;
}

/** Signs `raw` (the whole message, CRLF); throws when mailauth reports an error. */
export async function signMessage(raw: Buffer, key: SigningKey, now: number): Promise<Signature> {
  const result = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: key.algorithm,
    signTime: new Date(now),
    // mailauth takes the list as one colon-separated string.
    ...(key.headers === undefined ? {} : { headerList: key.headers.join(':') }),
    signatureData: [
      {
        signingDomain: key.domain,
        selector: key.selector,
        privateKey: key.privateKey,
        algorithm: key.algorithm,
        canonicalization: 'relaxed/relaxed',
      },
    ],
  } as never);
  // mailauth collects { err, selector, signingDomain } objects instead of throwing.
  const problem = (result.errors ?? [])[0] as unknown as { err?: Error } | undefined;
  if (problem !== undefined) throw problem.err ?? new Error('DKIM signing failed');
  const field = result.signatures.replace(/\r?\n$/, '');
  const colon = field.indexOf(':');
  if (!/^DKIM-Signature:/i.test(field)) throw new Error('mailauth produced no DKIM-Signature');
  return { value: field.slice(colon + 1).replace(/^[ \t]+/, '').replace(/\r\n/g, '\n') };
}
