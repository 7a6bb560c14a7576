/**
 * DKIM private keys, read once when the filter starts: a key that cannot be read or is not an RSA or
 * Ed25519 private key stops the start with an error naming the file (and the config line).
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DkimSigningConfig } from '../../config/builtins/sender-auth.js';
import { ConfigError } from '../../config/errors.js';

export interface SigningKey {
  readonly domain: string;
  readonly selector: string;
  /** PEM, as mailauth takes it. */
  readonly privateKey: string;
  readonly algorithm: 'rsa-sha256' | 'ed25519-sha256';
  readonly headers?: readonly string[];
}

export function loadSigningKey(config: DkimSigningConfig): SigningKey {
  const fail = (why: string): ConfigError => new ConfigError(`DKIM key ${config.keyFile} for ${config.domain}: ${why}`, config.keyFileLocation);
  let pem: string;
  try {
    pem = readFileSync(config.keyFile, 'utf8');
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let type: string | undefined;
  let exported: string;
  try {
    const key = createPrivateKey(pem);
    type = key.asymmetricKeyType;
    // Re-exported as PKCS#8 so both "BEGIN RSA PRIVATE KEY" (opendkim-genkey) and PKCS#8 files work alike.
    exported = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (type === 'rsa') {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 1024) throw fail(`RSA key of ${bits} bits is too short (at least 1024; 2048 recommended)`);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw fail(`is not a PEM private key (${(err as Error).message})`);
  }
  if (type !== 'rsa' && type !== 'ed25519') throw fail(`is a ${type ?? 'unknown'} key; DKIM signs with RSA or Ed25519`);
  return {
    domain: config.domain,
    selector: config.selector,
    privateKey: exported,
    algorithm: type === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256',
    ...(config.headers === undefined ? {} : { headers: config.headers }),
  };
}
