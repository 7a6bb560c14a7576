/**
 * Connections waiting for a slot under maxConnections: a peer that hangs up while waiting is dropped
 * at once (reviewer defect: a paused socket never saw its EOF, and each dead connection later got a
 * whole filter session), a connection waits only so long, and only so many wait.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MilterServerOptions } from '../../src/milter/server.js';
import { captureLogger, POSTFIX_OPTNEG, RawPeer, recordingFilter, startServer, until } from './wire-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: MilterServerOptions) {
  const log = captureLogger();
  const { filter, rec } = recordingFilter({});
  const srv = await startServer(filter, { logger: log.logger, maxConnections: 1, ...options });
  cleanups.push(() => srv.close());
  const open = async (): Promise<RawPeer> => {
    const p = await RawPeer.open(srv.port);
    cleanups.push(() => p.destroy());
    return p;
  };
  // The one slot, taken by a negotiated connection.
  const holder = await open();
  holder.send(POSTFIX_OPTNEG);
  expect((await holder.response()).type).toBe('optneg');
  return { log, rec, srv, open, holder };
}

describe('MilterServer maxConnections: the waiting queue', () => {
  it('drops a waiting connection whose MTA hung up; its filter session is never opened', async () => {
    const s = await setup({});
    const gone: RawPeer[] = [];
    for (let i = 0; i < 20; i++) {
      const p = await s.open();
      // What Postfix does: OPTNEG, then (milter_command_timeout past) it hangs up.
      p.send(POSTFIX_OPTNEG);
      p.socket.end();
      gone.push(p);
    }
    // The server sees each EOF while the slot is still taken, and closes its side.
    expect(await Promise.all(gone.map((p) => p.closedWithin(3000)))).toEqual(gone.map(() => true));
    const live = await s.open();
    live.send(POSTFIX_OPTNEG); // read while waiting, and handed to the session with the rest
    s.holder.send({ type: 'quit' });
    expect(await s.holder.closedWithin(2000)).toBe(true);
    // The live connection is served next: the dead ones before it took no session.
    expect((await live.response(5000)).type).toBe('optneg');
    expect(s.rec.opens).toBe(2);
    live.send({ type: 'helo', name: 'mx.example' });
    expect((await live.response()).type).toBe('continue');
  });

  it('closes a connection that waited longer than waitTimeout, with one log line', async () => {
    const s = await setup({ waitTimeout: 0.3 });
    const p = await s.open();
    p.send(POSTFIX_OPTNEG);
    expect(await p.closedWithin(5000)).toBe(true);
    expect(await until(() => s.log.warns().length === 1)).toBe(true);
    expect(s.log.warns()[0]!.msg).toMatch(/waited 0.3 s for a free slot \(max_connections\); closing it/);
    expect(s.rec.opens).toBe(1);
    // The holder is untouched.
    s.holder.send({ type: 'helo', name: 'mx.example' });
    expect((await s.holder.response()).type).toBe('continue');
  });

  it('closes connections beyond maxWaiting at once, logging the overflow once', async () => {
    const s = await setup({ maxWaiting: 2 });
    const waiting = [await s.open(), await s.open()];
    for (const p of waiting) p.send(POSTFIX_OPTNEG);
    const extra = [await s.open(), await s.open(), await s.open()];
    expect(await Promise.all(extra.map((p) => p.closedWithin(3000)))).toEqual([true, true, true]);
    expect(s.log.warns()).toHaveLength(1);
    expect(s.log.warns()[0]!.msg).toMatch(/already wait for a free slot/);
    for (const p of waiting) expect(p.isClosed).toBe(false);
    // The two that waited are served, in order, as the slot frees.
    s.holder.send({ type: 'quit' });
    expect((await waiting[0]!.response(5000)).type).toBe('optneg');
    waiting[0]!.send({ type: 'quit' });
    expect((await waiting[1]!.response(5000)).type).toBe('optneg');
    expect(s.rec.opens).toBe(3);
  });
});
