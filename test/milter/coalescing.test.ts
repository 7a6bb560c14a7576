/**
 * One write per stage on both sides of the wire (issue 12): the client sends a stage's macros and
 * command together, the server sends end-of-message changes and the final reply together. What a
 * peer sees must not depend on how the bytes are cut: replies fed one byte at a time, a peer that
 * stops reading (backpressure), and a connection lost in the middle of a stage.
 */
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { CONTINUE } from '../../src/mail/reply.js';
import { MilterClient } from '../../src/milter/client.js';
import { MilterClientError } from '../../src/milter/client-errors.js';
import { encodeCommand, type MilterCommand } from '../../src/milter/commands.js';
import { Command, ProtocolFlag } from '../../src/milter/constants.js';
import { PacketDecoder, type Packet } from '../../src/milter/packet.js';
import { encodeResponse, type MilterResponse } from '../../src/milter/responses.js';
import { stagePacket } from '../../src/milter/stage-packets.js';
import { context, tempDir } from './helpers.js';
import { RawPeer, POSTFIX_OPTNEG, sleep, startServer } from './wire-helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CONNECTION = { hostname: 'client.example.com', family: 'inet', address: '192.0.2.10', port: 25 } as const;

/**
 * A scripted milter: records every packet it gets and answers each with `answer(packet)`, written
 * whole or one byte per write. `onPacket` may also stop reading or drop the connection.
 */
async function fakeMilter(opts: {
  answer?: (p: Packet) => MilterResponse[];
  bytewise?: boolean;
  protocol?: number;
  onSocket?: (s: Socket) => void;
  /** Listen on a unix socket (small kernel buffers: a large write cannot complete unread). */
  unix?: boolean;
}): Promise<{ spec: string; packets: Packet[]; sockets: Socket[] }> {
  const packets: Packet[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => undefined);
    opts.onSocket?.(sock);
    const decoder = new PacketDecoder(16 * 1024 * 1024);
    sock.on('data', (d: Buffer) => {
      for (const p of decoder.push(d)) {
        packets.push(p);
        let out: MilterResponse[];
        if (p.code === Command.OPTNEG) {
          out = [{ type: 'optneg', version: 6, actions: 0x1ff, protocol: opts.protocol ?? 0, macroLists: new Map() }];
        } else if (p.code === Command.MACRO || p.code === Command.QUIT || p.code === Command.ABORT) {
          out = [];
        } else {
          out = opts.answer?.(p) ?? [{ type: 'continue' }];
        }
        const bytes = Buffer.concat(out.map(encodeResponse));
        if (!opts.bytewise) {
          if (bytes.length > 0) sock.write(bytes);
          continue;
        }
        void (async () => {
          for (const b of bytes) {
            if (sock.destroyed) return;
            sock.write(Buffer.from([b]));
            await new Promise((r) => setImmediate(r));
          }
        })();
      }
    });
  });
  let spec: string;
  if (opts.unix) {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const path = join(dir.path, 'milter.sock');
    await new Promise<void>((r) => server.listen(path, r));
    spec = `unix:${path}`;
  } else {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    spec = `inet:${(server.address() as { port: number }).port}@127.0.0.1`;
  }
  cleanups.push(() => new Promise((r) => server.close(r)));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  return { spec, packets, sockets };
}

/** Counts socket writes made by sockets other than `except` while `fn` runs. */
async function countWrites<T>(fn: () => Promise<T>, except: readonly Socket[]): Promise<{ result: T; writes: number }> {
  let writes = 0;
  const original = Socket.prototype.write;
  vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args: unknown[]) {
    if (!except.includes(this)) writes++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  });
  const result = await fn();
  vi.restoreAllMocks();
  return { result, writes };
}

describe('client side: one write per stage', () => {
  it('sends each stage with its macros in one write, and reads replies fed one byte at a time', async () => {
    const milter = await fakeMilter({ bytewise: true });
    const s = new MilterClient({ spec: milter.spec, timeouts: { reading: 5 } }).open();
    cleanups.push(() => s.close());
    await s.negotiate(FULL_OFFER);
    const ctx = context();
    ctx.store.set(Command.CONNECT, [['j', 'mx.example.net']]);
    ctx.store.set(Command.MAIL, [['i', 'QID1'], ['{mail_addr}', 'a@example.com']]);
    ctx.store.set(Command.RCPT, [['{rcpt_addr}', 'b@example.org']]);
    ctx.store.set(Command.EOH, [['i', 'QID1']]);
    ctx.store.set(Command.BODYEOB, [['i', 'QID1']]);
    const stages: [string, () => Promise<unknown>][] = [
      ['connect', () => s.connect(CONNECTION, ctx)],
      ['helo', () => s.helo('client.example.com', ctx)],
      ['mail', () => s.mail('<a@example.com>', ['SIZE=10'], ctx)],
      ['rcpt', () => s.rcpt('<b@example.org>', [], ctx)],
      ['data', () => s.data(ctx)],
      ['header', () => s.header('Subject', 'hi', ctx)],
      ['eoh', () => s.endOfHeaders(ctx)],
      ['body', () => s.body(Buffer.from('hello\r\n'), ctx)],
      ['eom', () => s.endOfMessage(ctx)],
    ];
    for (const [name, run] of stages) {
      const { result, writes } = await countWrites(run, milter.sockets);
      expect(writes, name).toBe(1);
      const reply = name === 'eom' ? (result as { reply: unknown }).reply : result;
      expect(reply, name).toEqual(CONTINUE);
    }
    // Every packet arrived, macros just before their command.
    const codes = milter.packets.map((p) => String.fromCharCode(p.code)).join('');
    expect(codes).toBe('ODCHDMDRTLDNBDE');
  });

  it('takes end-of-message changes and the final reply arriving one byte at a time', async () => {
    const milter = await fakeMilter({
      bytewise: true,
      answer: (p) =>
        p.code === Command.BODYEOB
          ? [
              { type: 'progress' },
              { type: 'addHeader', name: 'X-A', value: '1' },
              { type: 'changeHeader', index: 1, name: 'Subject', value: 'new' },
              { type: 'addRecipient', recipient: '<c@example.org>' },
              { type: 'replaceBody', chunk: Buffer.from('new body') },
              { type: 'accept' },
            ]
          : [{ type: 'continue' }],
    });
    const s = new MilterClient({ spec: milter.spec, timeouts: { endOfMessage: 5 } }).open();
    cleanups.push(() => s.close());
    await s.negotiate(FULL_OFFER);
    const ctx = context();
    let progressed = 0;
    const r = await s.endOfMessage({ ...ctx, progress: () => (progressed++, Promise.resolve()) });
    expect(progressed).toBe(1);
    expect(r.reply.status).toBe('accept');
    expect(r.changes).toEqual([
      { kind: 'addHeader', name: 'X-A', value: '1' },
      { kind: 'changeHeader', index: 1, name: 'Subject', value: 'new' },
      { kind: 'addRecipient', recipient: '<c@example.org>' },
      { kind: 'replaceBody', body: Buffer.from('new body') },
    ]);
  });

  it('waits for a milter that stops reading (backpressure), then gets its reply', async () => {
    let paused: Socket | undefined;
    const milter = await fakeMilter({
      protocol: ProtocolFlag.MDS_1M,
      onSocket: (sock) => (paused = sock),
    });
    const s = new MilterClient({ spec: milter.spec, timeouts: { writing: 5, reading: 5 } }).open();
    cleanups.push(() => s.close());
    const caps = await s.negotiate(FULL_OFFER);
    expect(caps.maxDataSize).toBeGreaterThan(1_000_000);
    paused!.pause();
    const body = Buffer.alloc(1_000_000, 0x61);
    let settled = false;
    const pending = s.body(body, context()).finally(() => (settled = true));
    await sleep(150);
    expect(settled).toBe(false);
    paused!.resume();
    expect(await pending).toEqual(CONTINUE);
    const got = milter.packets.filter((p) => p.code === Command.BODY);
    expect(got.reduce((n, p) => n + p.payload.length, 0)).toBe(body.length);
  });

  it('fails the stage with a writing timeout when the milter never reads', async () => {
    const milter = await fakeMilter({ protocol: ProtocolFlag.MDS_1M, unix: true });
    const s = new MilterClient({ spec: milter.spec, timeouts: { writing: 1, reading: 30 } }).open();
    cleanups.push(() => s.close());
    await s.negotiate(FULL_OFFER);
    milter.sockets[0]!.pause();
    // Far more than a unix socket's buffers hold: the write cannot complete while nobody reads.
    const err = await s.body(Buffer.alloc(1_000_000, 0x62), context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MilterClientError);
    expect((err as MilterClientError).failure).toBe('timeout');
  }, 15_000);

  it('fails the stage, not the process, when the milter drops the connection mid-stage', async () => {
    const milter = await fakeMilter({
      answer: (p) => {
        if (p.code === Command.HEADER) milter.sockets[0]!.destroy();
        return p.code === Command.HEADER ? [] : [{ type: 'continue' }];
      },
    });
    const s = new MilterClient({ spec: milter.spec, timeouts: { reading: 5 } }).open();
    cleanups.push(() => s.close());
    await s.negotiate(FULL_OFFER);
    const ctx = context();
    await expect(s.data(ctx)).resolves.toEqual(CONTINUE);
    const err = await s.header('Subject', 'x', ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MilterClientError);
    expect((err as MilterClientError).failure).toBe('closed');
    // The next stage fails at once with the same error; nothing is written to the dead socket.
    await expect(s.endOfMessage(ctx)).rejects.toBeInstanceOf(MilterClientError);
  });

  it('rejects a write into a connection the milter already reset (EPIPE/ECONNRESET) as closed', async () => {
    const milter = await fakeMilter({});
    const s = new MilterClient({ spec: milter.spec, timeouts: { reading: 5, writing: 5 } }).open();
    cleanups.push(() => s.close());
    await s.negotiate(FULL_OFFER);
    milter.sockets[0]!.resetAndDestroy();
    await sleep(50);
    const err = await s.body(Buffer.alloc(300_000, 0x63), context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MilterClientError);
    expect((err as MilterClientError).failure).toBe('closed');
  });
});

describe('client side: closing', () => {
  it('sends QUIT and closes at once, as Postfix does; the milter reads QUIT, then the end of the stream', async () => {
    const milter = await fakeMilter({});
    const s = new MilterClient({ spec: milter.spec }).open();
    await s.negotiate(FULL_OFFER);
    const sock = milter.sockets[0]!;
    const ended = new Promise<void>((r) => sock.once('end', () => r()));
    s.close();
    await ended;
    expect(milter.packets.map((p) => p.code)).toEqual([Command.OPTNEG, Command.QUIT]);
  });

  it('a stage still waiting for its reply fails (closed) when the session is closed, never hangs', async () => {
    const milter = await fakeMilter({ answer: (p) => (p.code === Command.HEADER ? [] : [{ type: 'continue' }]) });
    const s = new MilterClient({ spec: milter.spec, timeouts: { reading: 30 } }).open();
    await s.negotiate(FULL_OFFER);
    const waiting = s.header('Subject', 'x', context()).catch((e: unknown) => e);
    await sleep(50);
    s.close();
    const err = await waiting;
    expect(err).toBeInstanceOf(MilterClientError);
    expect((err as MilterClientError).failure).toBe('closed');
  });
});

describe('encode each stage once for all children', () => {
  it('hands out the same bytes as encodeCommand, and the same buffer for the same values', () => {
    const cmds: MilterCommand[] = [
      { type: 'connect', hostname: 'h', family: 'inet', port: 25, address: '192.0.2.1' },
      { type: 'helo', name: 'h.example' },
      { type: 'mail', args: ['<a@example.com>', 'SIZE=1'] },
      { type: 'rcpt', args: ['<b@example.org>'] },
      { type: 'data' },
      { type: 'header', name: 'Subject', value: 'x' },
      { type: 'eoh' },
      { type: 'bodyeob', chunk: Buffer.alloc(0) },
      { type: 'unknown', command: 'XYZZY' },
    ];
    for (const cmd of cmds) {
      const first = stagePacket(cmd);
      expect(first.equals(encodeCommand(cmd)), cmd.type).toBe(true);
      // A second child: equal values in new objects (the chain builds them per child).
      expect(stagePacket(structuredClone(cmd)), cmd.type).toBe(first);
    }
    const a = stagePacket({ type: 'header', name: 'Subject', value: 'one' });
    const b = stagePacket({ type: 'header', name: 'Subject', value: 'two' });
    expect(b).not.toBe(a);
    expect(b.equals(encodeCommand({ type: 'header', name: 'Subject', value: 'two' }))).toBe(true);
    const r1 = stagePacket({ type: 'rcpt', args: ['<b@example.org>'] });
    const r2 = stagePacket({ type: 'rcpt', args: ['<b@example.org>', 'NOTIFY=NEVER'] });
    expect(r2).not.toBe(r1);
  });

  it('never shares body chunks (a reader may reuse its buffer)', () => {
    const chunk = Buffer.from('abc');
    const p1 = stagePacket({ type: 'body', chunk });
    chunk.write('xyz');
    const p2 = stagePacket({ type: 'body', chunk });
    expect(p1.subarray(5).toString()).toBe('abc');
    expect(p2.subarray(5).toString()).toBe('xyz');
  });
});

describe('server side: one write per stage', () => {
  it('answers a session sent one byte at a time, end-of-message changes and reply in one write', async () => {
    const filter = defineFilter('changes', { actions: ['addHeader', 'changeHeader', 'addRecipient'] }, () => ({
      endOfMessage: () => ({
        reply: CONTINUE,
        changes: [
          { kind: 'addHeader', name: 'X-A', value: '1' },
          { kind: 'changeHeader', index: 1, name: 'Subject', value: 'new' },
          { kind: 'addRecipient', recipient: '<c@example.org>' },
        ],
      }),
    }));
    const srv = await startServer(filter);
    cleanups.push(() => srv.close());
    const peer = await RawPeer.open(srv.port);
    cleanups.push(() => peer.destroy());
    const sendBytewise = async (...cmds: MilterCommand[]): Promise<void> => {
      for (const b of Buffer.concat(cmds.map(encodeCommand))) {
        peer.socket.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
    };
    await sendBytewise(POSTFIX_OPTNEG);
    expect((await peer.response()).type).toBe('optneg');
    await sendBytewise(
      { type: 'macro', stage: Command.CONNECT, macros: [['j', 'mx']] },
      { type: 'connect', hostname: 'h', family: 'inet', port: 25, address: '192.0.2.1' },
    );
    expect((await peer.response()).type).toBe('continue');
    await sendBytewise({ type: 'mail', args: ['<a@example.com>'] }, { type: 'rcpt', args: ['<b@example.org>'] }, { type: 'data' });
    for (let i = 0; i < 3; i++) expect((await peer.response()).type).toBe('continue');
    await sendBytewise({ type: 'header', name: 'Subject', value: 'x' }, { type: 'eoh' }, { type: 'body', chunk: Buffer.from('hi\r\n') });
    for (let i = 0; i < 3; i++) expect((await peer.response()).type).toBe('continue');
    const { result, writes } = await countWrites(async () => {
      await sendBytewise({ type: 'bodyeob', chunk: Buffer.alloc(0) });
      return peer.responsesUntilFinal();
    }, [peer.socket]);
    expect(result.map((r) => r.type)).toEqual(['addHeader', 'changeHeader', 'addRecipient', 'continue']);
    expect(writes).toBe(1);
  });
});
