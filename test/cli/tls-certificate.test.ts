/** The servers' certificate: self-signed once in <data_dir>/tls/ (key 0600), or the files of [tls]. */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTlsCertificate, selfSignedCertificate } from '../../src/cli/tls-certificate.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await makeTempDir('tls');
});
afterAll(() => dir.remove());

describe('selfSignedCertificate', () => {
  it('makes a pair with CN = hostname and the key created 0600; the next call reuses it', async () => {
    const tlsDir = join(dir.path, 'data', 'tls');
    const first = await selfSignedCertificate(tlsDir, 'mx.example.org');
    expect(first.created).toBe(true);
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(tlsDir).mode & 0o777).toBe(0o700);
    const x509 = new X509Certificate(first.cert);
    expect(x509.subject).toBe('CN=mx.example.org');
    expect(x509.checkHost('mx.example.org')).toBe('mx.example.org');
    expect(x509.checkPrivateKey((await import('node:crypto')).createPrivateKey(first.key))).toBe(true);
    const again = await selfSignedCertificate(tlsDir, 'other.example.org');
    expect(again.created).toBe(false);
    expect(again.cert.equals(first.cert)).toBe(true);
  });
});

describe('loadTlsCertificate', () => {
  it('reads [tls] cert_file and key_file', async () => {
    writeFileSync(join(dir.path, 'c.pem'), 'CERT');
    writeFileSync(join(dir.path, 'k.pem'), 'KEY');
    const loaded = parseConfig('[tls]\ncert_file = "c.pem"\nkey_file = "k.pem"\n', join(dir.path, 'm.toml'));
    const tls = await loadTlsCertificate(loaded);
    expect([tls.cert.toString(), tls.key.toString(), tls.selfSigned]).toEqual(['CERT', 'KEY', false]);
  });

  it('a file that cannot be read: a ConfigError at its file:line', async () => {
    const file = join(dir.path, 'm.toml');
    const loaded = parseConfig('[tls]\ncert_file = "c.pem"\nkey_file = "missing.pem"\n', file);
    const err = await loadTlsCertificate(loaded).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(new RegExp(`^${file}:3: tls.key_file: cannot read ${join(dir.path, 'missing.pem')}: ENOENT`));
    expect(readFileSync(join(dir.path, 'c.pem'), 'utf8')).toBe('CERT');
  });
});
