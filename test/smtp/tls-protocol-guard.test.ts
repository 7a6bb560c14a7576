/**
 * An SMTP server closed at the very moment an implicit-TLS client is accepted (SIGTERM at the wrong
 * moment): smtp-server destroys the accepted socket, then reports the TLS handshake that never was with
 * getProtocol(), which crashes Node with SIGSEGV unless tls-protocol-guard.ts is installed. Run in a child
 * process, so that a crash is a failed test and not a dead test worker.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { builtModule } from '../dist.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { testCertificate } from './harness.js';

const SMTP_SERVER = createRequire(import.meta.url).resolve('smtp-server');

/** The child: an implicit-TLS SMTPServer that closes in the same tick as it accepts a client. */
const CHILD = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
const [serverModule, guardModule, pemFile] = process.argv.slice(2);
const { SMTPServer } = createRequire(import.meta.url)(serverModule);
const { guardTlsProtocol } = await import(guardModule);
guardTlsProtocol();
const { cert, key } = JSON.parse(readFileSync(pemFile, 'utf8'));
const server = new SMTPServer({ secure: true, key, cert, logger: false, closeTimeout: 1 });
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  server.server.on('connection', () =>
    server.close(() => setTimeout(() => { console.log('closed cleanly'); process.exit(0); }, 200)),
  );
  connect(server.server.address().port, '127.0.0.1').on('error', () => {});
});
`;

let dir: TempDir | undefined;
afterAll(() => dir?.remove());

describe('closing the SMTP server during an implicit-TLS accept', () => {
  it('does not crash the process (getProtocol of a destroyed TLS socket is null)', async () => {
    dir = await makeTempDir('tls-guard');
    const pemFile = join(dir.path, 'pems.json');
    writeFileSync(pemFile, JSON.stringify(await testCertificate()));
    const script = join(dir.path, 'child.mjs');
    writeFileSync(script, CHILD);
    const r = spawnSync(process.execPath, [script, SMTP_SERVER, builtModule('smtp/tls-protocol-guard.js'), pemFile], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: r.status, signal: r.signal, stdout: r.stdout.trim() }, r.stderr).toEqual({ status: 0, signal: null, stdout: 'closed cleanly' });
  });
});
