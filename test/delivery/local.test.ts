/**
 * Local delivery: the built-in Maildir (through the Transport, with the accounts deciding) and LMTP to an
 * external server — Postfix's smtp-sink in LMTP mode, and an smtp-server LMTP listener for a reply per
 * recipient and for a unix socket.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import { parseMaildirName } from '../../src/store/maildir/maildir-name.js';
import type { Transport } from '../../src/store/transport.js';
import { makeTempDir, type TempDir } from '../interop/harness/tmpdir.js';
import { startSink, startTestServer, type Sink, type TestServer } from './peers.js';
import { accountsOf, message, request } from './request.js';

let tmp: TempDir;
const transports: Transport[] = [];
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  tmp = await makeTempDir('local');
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
  await tmp.remove();
});

const mailRoot = (): string => join(tmp.path, 'mail');
const newFiles = async (user: string): Promise<string[]> => {
  const [local, domain] = user.split('@');
  return readdir(join(mailRoot(), domain as string, local as string, 'new')).catch(() => []);
};

function localTransport(extra: Parameters<typeof createTransport>[0] = {}): Transport {
  const accounts = accountsOf(['example.test', 'localhost'], ['alice@example.test', 'bob@example.test'], mailRoot(), {
    'team@example.test': ['alice@example.test', 'bob@example.test'],
  });
  const t = createTransport({ hostname: 'mx.example.test', connectTimeout: 5, commandTimeout: 10, ...extra }, accounts);
  transports.push(t);
  return t;
}

describe('local delivery to Maildir', () => {
  it('writes the message to the user Maildir, LF line ends, with S= and W=', async () => {
    const body = message('to alice');
    const results = await localTransport().deliver(request(['alice@example.test'], body));
    expect(results).toEqual([expect.objectContaining({ address: 'alice@example.test', status: 'delivered', enhanced: '2.0.0', relay: 'maildir' })]);
    const [name] = await newFiles('alice@example.test');
    expect(name).toBeDefined();
    const parsed = parseMaildirName(name as string);
    expect(parsed?.host).toBe('mx.example.test');
    const text = await readFile(join(mailRoot(), 'example.test', 'alice', 'new', name as string), 'utf8');
    // Return-Path (RFC 5321 4.4) and Delivered-To on top, as Postfix's local(8)/virtual(8) write them.
    const top = 'Return-Path: <sender@origin.test>\r\nDelivered-To: alice@example.test\r\n';
    expect(text).toBe(`${top}${body}`.replace(/\r\n/g, '\n'));
    expect(parsed?.size).toBe(Buffer.byteLength(text));
    expect(parsed?.vsize).toBe(Buffer.byteLength(top + body));
  });

  it('writes Return-Path: <> for a bounce, and each alias target\'s own Delivered-To', async () => {
    await localTransport().deliver(request(['team@example.test'], message('bounce to team'), { sender: '' }));
    for (const user of ['alice', 'bob']) {
      const texts = await Promise.all(
        (await newFiles(`${user}@example.test`)).map((n) => readFile(join(mailRoot(), 'example.test', user, 'new', n), 'utf8')),
      );
      const text = texts.find((t) => t.includes('Subject: bounce to team'));
      expect(text).toMatch(new RegExp(`^Return-Path: <>\nDelivered-To: ${user}@example\\.test\nFrom: `));
    }
  });

  it('delivers an alias to every mailbox, bounces an unknown user (5.1.1), and sends the remote part elsewhere', async () => {
    const results = await localTransport({ relayHost: '[127.0.0.1]:1' }).deliver(request(['team@example.test', 'nobody@example.test']));
    expect(results.map((r) => [r.status, r.enhanced])).toEqual([
      ['delivered', '2.0.0'],
      ['failed', '5.1.1'],
    ]);
    expect(await newFiles('alice@example.test')).toHaveLength(1);
    expect(await newFiles('bob@example.test')).toHaveLength(1);
  });

  it('gives 100 concurrent deliveries to one mailbox 100 files with different names', async () => {
    const t = localTransport();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => t.deliver(request(['alice@example.test'], message(`n${i}`)))));
    expect(results.flat().every((r) => r.status === 'delivered')).toBe(true);
    const names = await newFiles('alice@example.test');
    expect(new Set(names).size).toBe(100);
  });

  it('defers (not bounces) when the Maildir cannot be written', async () => {
    // A regular file where the mail directory should be: ENOTDIR (root ignores permission bits).
    const blocker = join(tmp.path, 'not-a-dir');
    await writeFile(blocker, '');
    const accounts = accountsOf(['example.test'], ['alice@example.test'], blocker);
    const t = createTransport({ hostname: 'h' }, accounts);
    transports.push(t);
    const [r] = await t.deliver(request(['alice@example.test']));
    expect(r).toMatchObject({ status: 'deferred' });
    expect(r?.enhanced).toMatch(/^4\./);
  });
});

describe('local delivery over LMTP', () => {
  it('delivers to smtp-sink in LMTP mode (smtp-sink -L)', async () => {
    const sink: Sink = await startSink(['-L']);
    closers.push(() => sink.stop());
    const results = await localTransport({ lmtp: `inet:127.0.0.1:${sink.port}` }).deliver(request(['alice@example.test', 'bob@example.test']));
    expect(results.map((r) => [r.status, r.relay])).toEqual([
      ['delivered', `lmtp:[127.0.0.1]:${sink.port}`],
      ['delivered', `lmtp:[127.0.0.1]:${sink.port}`],
    ]);
    const [dump] = await sink.waitForMessages(1);
    expect(dump).toContain('X-Client-Proto: LMTP');
    expect(dump).toContain('X-Rcpt-Args: <alice@example.test>');
    expect(dump).toContain('X-Rcpt-Args: <bob@example.test>');
    expect(await newFiles('alice@example.test')).toEqual([]); // not into the built-in Maildir
  });

  it('takes the LMTP reply of each recipient at end of data', async () => {
    const server: TestServer = await startTestServer(
      {
        lmtpReplies: (to) => to.map((a) => (a.startsWith('alice') ? '2.0.0 <alice> Saved' : a.startsWith('bob') ? { code: 452, message: '4.2.2 Quota exceeded' } : { code: 550, message: '5.1.1 User unknown' })),
      },
      { lmtp: true },
    );
    closers.push(() => server.close());
    const results = await localTransport({ lmtp: `inet:127.0.0.1:${server.port}` }).deliver(request(['alice@example.test', 'bob@example.test', 'carol@example.test']));
    expect(results.map((r) => [r.address, r.status, r.enhanced])).toEqual([
      ['alice@example.test', 'delivered', '2.0.0'],
      ['bob@example.test', 'deferred', '4.2.2'],
      ['carol@example.test', 'failed', '5.1.1'],
    ]);
    expect(results[1]?.diagnostic).toMatch(/said: 452 4\.2\.2 Quota exceeded \(in reply to end of DATA command\)/);
  });

  it('speaks LMTP over a unix socket', async () => {
    const path = join(tmp.path, 'lmtp.sock');
    const server = await startTestServer({}, { lmtp: true }, path);
    closers.push(() => server.close());
    const results = await localTransport({ lmtp: `unix:${path}` }).deliver(request(['alice@example.test']));
    expect(results[0]).toMatchObject({ status: 'delivered', relay: `lmtp:unix:${path}` });
    expect(server.received[0]?.to).toEqual(['alice@example.test']);
  });

  it('defers when the LMTP server is not there', async () => {
    const results = await localTransport({ lmtp: `unix:${join(tmp.path, 'none.sock')}` }).deliver(request(['alice@example.test']));
    expect(results[0]).toMatchObject({ status: 'deferred', enhanced: '4.4.1' });
  });
});
