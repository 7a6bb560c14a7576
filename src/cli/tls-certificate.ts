/**
 * The servers' TLS certificate: [tls] cert_file and key_file when set, else a self-signed pair made at the
 * first start in <data_dir>/tls/ and reused afterwards (a client that pinned it keeps working). The key is
 * created with mode 0600 (at open, never chmod after) and both files are written to a temporary name,
 * fsynced and renamed, so a crash never leaves half a key behind.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectory } from '../config/make-directory.js';
import type { LoadedConfig } from '../config/origin.js';
import { configErrorAt } from '../config/overrides.js';

export const TLS_DIR = 'tls';
export const SELF_SIGNED_CERT = 'cert.pem';
export const SELF_SIGNED_KEY = 'key.pem';

/** How long a self-signed certificate is valid: long, since nobody renews it (Debian's snakeoil: 10 years). */
const SELF_SIGNED_DAYS = 3650;

export interface TlsCertificate {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certFile: string;
  readonly keyFile: string;
  /** Self-signed by Mailgate (not from [tls]). */
  readonly selfSigned: boolean;
  /** Made by this start (the first one). */
  readonly created: boolean;
}

/** The certificate to serve; throws a ConfigError located at [tls] when a configured file cannot be read. */
export async function loadTlsCertificate(loaded: LoadedConfig): Promise<TlsCertificate> {
  const { tls, dataDir, hostname } = loaded.config;
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    const read = (file: string, originKey: string, key: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw configErrorAt(loaded, originKey, key, `cannot read ${file}: ${(err as Error).message}`);
      }
    };
    return {
      cert: read(tls.certFile, 'tls.cert_file', 'cert_file'),
      key: read(tls.keyFile, 'tls.key_file', 'key_file'),
      certFile: tls.certFile,
      keyFile: tls.keyFile,
      selfSigned: false,
      created: false,
    };
  }
  try {
    return await selfSignedCertificate(join(dataDir, TLS_DIR), hostname);
  } catch (err) {
    throw configErrorAt(loaded, 'data_dir', 'data_dir', `cannot make the self-signed certificate in ${join(dataDir, TLS_DIR)}: ${(err as Error).message}`);
  }
}

/** The pair in `dir`, made now (CN = `hostname`) when either file is missing. */
export async function selfSignedCertificate(dir: string, hostname: string): Promise<TlsCertificate> {
  const certFile = join(dir, SELF_SIGNED_CERT);
  const keyFile = join(dir, SELF_SIGNED_KEY);
  const found = existsSync(certFile) && existsSync(keyFile);
  if (!found) {
    makeDirectory(dir, 0o700);
    const now = new Date();
    // RSA 2048: every SMTP client (old OpenSSL builds, Postfix's smtp) can use it.
    // Loaded only here: selfsigned pulls in an X.509/ASN.1 stack (hundreds of modules, megabytes of heap)
    // that a running server with its certificate in place never needs.
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: hostname }], {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: now,
      notAfterDate: new Date(now.getTime() + SELF_SIGNED_DAYS * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] },
      ],
    });
    // The key first: a certificate without its key would be taken for a complete pair.
    writeDurably(keyFile, pems.private, 0o600);
    writeDurably(certFile, pems.cert, 0o644);
    syncDirectory(dir);
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), certFile, keyFile, selfSigned: true, created: !found };
}

/** `text` into `file` through a temporary name: created with `mode`, fsynced, renamed over. */
function writeDurably(file: string, text: string, mode: number): void {
  const temp = `${file}.tmp`;
  rmSync(temp, { force: true });
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
