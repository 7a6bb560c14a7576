import { afterEach, describe, expect, it } from 'vitest';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import type { Filter } from '../../src/mail/filter.js';
import { silentLogger } from '../../src/mail/logger.js';
import { ACCEPT, CONTINUE, reject } from '../../src/mail/reply.js';
import { MilterClient } from '../../src/milter/client.js';
import { MilterClientError } from '../../src/milter/client-errors.js';
import { Command } from '../../src/milter/constants.js';
import { MilterServer } from '../../src/milter/server.js';
import { context, tempDir } from './helpers.js';

const servers: MilterServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(filter: Filter, spec = 'inet:0@127.0.0.1') {
  const server = new MilterServer(filter, { logger: silentLogger, drainTimeout: 1 });
  servers.push(server);
  return server.listen(spec);
}

describe('MilterClient → MilterServer', () => {
  it('runs a whole session with macros, a rejected recipient and end-of-message changes', async () => {
    const seen: string[] = [];
    const filter = defineFilter(
      'test',
      { actions: ['addHeader', 'changeHeader', 'changeBody', 'addRecipient', 'deleteRecipient', 'changeSender', 'quarantine'] },
      () => ({
        connect: (info, ctx) => {
          seen.push(`connect ${info.hostname} ${info.address}:${info.port} j=${ctx.macros.get('j')}`);
          return CONTINUE;
        },
        helo: (name) => (seen.push(`helo ${name}`), CONTINUE),
        mail: (sender, args, ctx) => (seen.push(`mail ${sender} ${args.join(',')} auth=${ctx.macros.get('{auth_authen}')}`), CONTINUE),
        rcpt: (rcpt) => (rcpt.includes('bad') ? reject(550, '5.1.1', 'no such user') : CONTINUE),
        header: (name, value) => (seen.push(`header ${name}=${value}`), CONTINUE),
        body: (chunk) => (seen.push(`body ${chunk.length}`), CONTINUE),
        endOfMessage: async () => ({
          reply: CONTINUE,
          changes: [
            { kind: 'addHeader', name: 'X-Added', value: 'yes é' },
            { kind: 'insertHeader', index: 0, name: 'X-First', value: '1' },
            { kind: 'deleteHeader', index: 1, name: 'Subject' },
            { kind: 'replaceBody', body: Buffer.alloc(70000, 0x61) },
            { kind: 'addRecipient', recipient: '<new@example.org>' },
            { kind: 'deleteRecipient', recipient: '<old@example.org>' },
            { kind: 'changeSender', sender: '<other@example.com>' },
            { kind: 'quarantine', reason: 'look at it' },
          ],
        }),
      }),
    );
    const spec = await serve(filter);
    const client = new MilterClient({ spec });
    const s = client.open();
    const caps = await s.negotiate(FULL_OFFER);
    expect(caps.version).toBe(6);
    expect(caps.actions.has('addHeader')).toBe(true);
    const ctx = context();
    ctx.store.set(Command.CONNECT, [['j', 'mx.example.net']]);
    expect(await s.connect({ hostname: 'client.example.com', family: 'inet', address: '192.0.2.1', port: 4321 }, ctx)).toEqual(CONTINUE);
    expect(await s.helo('client.example.com', ctx)).toEqual(CONTINUE);
    ctx.store.set(Command.MAIL, [['{auth_authen}', 'alice']]);
    expect(await s.mail('<a@example.com>', ['SIZE=100'], ctx)).toEqual(CONTINUE);
    const bad = await s.rcpt('<bad@example.org>', [], ctx);
    expect(bad).toEqual({ status: 'reject', code: 550, enhancedCode: '5.1.1', text: 'no such user' });
    expect(await s.rcpt('<good@example.org>', [], ctx)).toEqual(CONTINUE);
    expect(await s.data(ctx)).toEqual(CONTINUE);
    expect(await s.header('Subject', 'hello', ctx)).toEqual(CONTINUE);
    expect(await s.endOfHeaders(ctx)).toEqual(CONTINUE);
    expect(await s.body(Buffer.from('line\r\n'), ctx)).toEqual(CONTINUE);
    const eom = await s.endOfMessage(ctx);
    expect(eom.reply).toEqual(CONTINUE);
    expect(eom.changes.map((c) => c.kind)).toEqual([
      'addHeader',
      'insertHeader',
      'deleteHeader',
      'addRecipient',
      'deleteRecipient',
      'changeSender',
      'quarantine',
      'replaceBody',
    ]);
    expect(eom.changes[0]).toEqual({ kind: 'addHeader', name: 'X-Added', value: 'yes é' });
    const body = eom.changes.find((c) => c.kind === 'replaceBody');
    expect(body && body.kind === 'replaceBody' && body.body.length).toBe(70000);
    s.close();
    expect(seen).toEqual([
      'connect client.example.com 192.0.2.1:4321 j=mx.example.net',
      'helo client.example.com',
      'mail <a@example.com> SIZE=100 auth=alice',
      'header Subject=hello',
      'body 6',
    ]);
  });

  it('stops sending events after accept and serves several messages on one connection', async () => {
    let mails = 0;
    const filter = defineFilter('t', {}, () => ({
      mail: () => (++mails === 1 ? ACCEPT : CONTINUE),
    }));
    const spec = await serve(filter);
    const s = new MilterClient({ spec }).open();
    await s.negotiate(FULL_OFFER);
    const ctx = context();
    await s.connect({ hostname: 'h', family: 'inet', address: '127.0.0.1', port: 1 }, ctx);
    expect(await s.mail('<a@b>', [], ctx)).toEqual(ACCEPT);
    expect(await s.rcpt('<c@d>', [], ctx)).toEqual(ACCEPT); // sticky, not sent
    expect((await s.endOfMessage(ctx)).reply).toEqual(ACCEPT);
    await s.abort();
    expect(await s.mail('<a@b>', [], ctx)).toEqual(CONTINUE);
    expect(await s.rcpt('<c@d>', [], ctx)).toEqual(CONTINUE);
    expect((await s.endOfMessage(ctx)).reply).toEqual(CONTINUE);
    expect(mails).toBe(2);
    s.close();
  });

  it('serves on a unix socket with the requested mode', async () => {
    const dir = tempDir();
    try {
      const path = `${dir.path}/sub/milter.sock`;
      const server = new MilterServer(defineFilter('t', {}, () => ({})), { logger: silentLogger, mode: '0666' });
      servers.push(server);
      await server.listen(`unix:${path}`);
      const { statSync } = await import('node:fs');
      expect(statSync(path).mode & 0o777).toBe(0o666);
      const s = new MilterClient({ spec: `unix:${path}` }).open();
      await s.negotiate(FULL_OFFER);
      expect(await s.helo('x', context())).toEqual(CONTINUE);
      s.close();
    } finally {
      dir.cleanup();
    }
  });

  it('reports a connection failure as MilterClientError(connect)', async () => {
    const s = new MilterClient({ spec: 'unix:/nonexistent/milter.sock' }).open();
    const err = await s.negotiate(FULL_OFFER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MilterClientError);
    expect((err as MilterClientError).failure).toBe('connect');
  });
});

describe('MilterServer maxConnections', () => {
  it('makes connections beyond the limit wait for a free slot instead of refusing them', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let helos = 0;
    const filter = defineFilter('slow', {}, () => ({
      helo: async () => {
        helos++;
        if (helos === 1) await gate;
        return CONTINUE;
      },
    }));
    const server = new MilterServer(filter, { logger: silentLogger, drainTimeout: 1, maxConnections: 1 });
    servers.push(server);
    const spec = await server.listen('inet:0@127.0.0.1');
    const first = new MilterClient({ spec }).open();
    await first.negotiate(FULL_OFFER);
    const busy = first.helo('one', context());
    const second = new MilterClient({ spec, timeouts: { reading: 5 } }).open();
    const negotiated = second.negotiate(FULL_OFFER);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.connectionCount).toBe(1);
    release();
    await busy;
    first.close();
    await negotiated;
    expect(await second.helo('two', context())).toEqual(CONTINUE);
    second.close();
    expect(helos).toBe(2);
  });
});
