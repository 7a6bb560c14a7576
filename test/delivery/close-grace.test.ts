/**
 * Transport.close(graceMs) is bounded (review finding 8): deliveries in flight get the grace, then their
 * connections are cut — one in the middle of a transaction, one still waiting for a greeting — and they
 * defer; a delivery waiting for its destination's slot gets it when the cut one lets go, and defers without
 * connecting. The commands' own timeouts (60 s here) are far beyond the test's hang guard.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import { freePort } from '../interop/harness/ports.js';
import { hangGuard } from '../hang-guard.js';
import { startTestServer, type TestServer } from './peers.js';
import { noAccounts, request } from './request.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const slowTransport = (port: number, extra: Parameters<typeof createTransport>[0] = {}) =>
  createTransport({ relayHost: `[127.0.0.1]:${port}`, hostname: 'mailgate.test', connectTimeout: 60, commandTimeout: 60, ...extra }, noAccounts);

/** A server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port, sockets };
}

const until = async (what: () => boolean): Promise<void> => {
  while (!what()) await new Promise((r) => setTimeout(r, 20));
};

describe('Transport.close(graceMs)', () => {
  it('cuts a transaction stuck at end of data after the grace; the delivery behind it, waiting for the slot, defers unconnected', async () => {
    const server: TestServer = await startTestServer({ dataDelayMs: 60_000 });
    closers.push(() => server.close());
    const t = slowTransport(server.port, { destinationConcurrencyLimit: 1 });
    const first = t.deliver(request(['a@remote.test']));
    const second = t.deliver(request(['b@remote.test']));
    await until(() => server.received.length === 1); // the first is waiting for the reply to its data
    const guard = hangGuard(500);
    await t.close(200);
    guard();
    const [r1] = await first;
    const [r2] = await second;
    guard();
    expect(r1).toMatchObject({ address: 'a@remote.test', status: 'deferred' });
    expect(r2).toMatchObject({ address: 'b@remote.test', status: 'deferred' });
    expect(server.connections).toBe(1); // the second never connected
    expect(await t.deliver(request(['c@remote.test']))).toEqual([expect.objectContaining({ status: 'deferred', enhanced: '4.3.2' })]);
  });

  it('cuts a connection still waiting for the greeting', async () => {
    const silent = await silentServer();
    const t = slowTransport(silent.port);
    const pending = t.deliver(request(['a@remote.test']));
    await until(() => silent.sockets.length === 1);
    const guard = hangGuard(500);
    await t.close(100);
    const [r] = await pending;
    guard();
    expect(r).toMatchObject({ status: 'deferred' });
    await until(() => silent.sockets[0]?.readableEnded === true || silent.sockets[0]?.destroyed === true);
  });

  it('lets a delivery that finishes within the grace finish', async () => {
    const server = await startTestServer({ dataDelayMs: 100 });
    closers.push(() => server.close());
    const t = slowTransport(server.port);
    const pending = t.deliver(request(['a@remote.test']));
    await until(() => server.received.length === 1);
    await t.close(30_000);
    expect(await pending).toEqual([expect.objectContaining({ status: 'delivered' })]);
  });
});
