/**
 * RFC 3461 to a next hop: RET= goes with ENVID= in MAIL FROM when the server offers DSN, and a recipient
 * whose NOTIFY the server was given comes back with dsnPassedOn (the queue then sends no "relayed" notice of
 * its own: review finding 7). A server without DSN gets neither, and the result does not say passed on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import type { DeliveryRequest, RecipientResult } from '../../src/store/transport.js';
import { startTestServer, type TestServer } from './peers.js';
import { noAccounts, request } from './request.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function relayTo(offersDsn: boolean): Promise<{ server: TestServer; deliver: (req: DeliveryRequest) => Promise<RecipientResult[]> }> {
  const server = await startTestServer({}, { hideDSN: !offersDsn });
  servers.push(server);
  const t = createTransport({ relayHost: `[127.0.0.1]:${server.port}`, hostname: 'mailgate.test', connectTimeout: 5, commandTimeout: 10 }, noAccounts);
  return {
    server,
    deliver: async (req) => {
      try {
        return await t.deliver(req);
      } finally {
        await t.close();
      }
    },
  };
}

const dsnRequest = () =>
  request(
    [
      { address: 'alice@remote.test', original: 'alice@remote.test', notify: ['SUCCESS', 'FAILURE'] },
      { address: 'bob@remote.test', original: 'bob@remote.test' },
      { address: 'carol@remote.test', original: 'carol@remote.test', notify: 'NEVER' },
    ],
    undefined,
    { envid: 'ENV-7', ret: 'HDRS' },
  );

describe('DSN passed on to the next hop', () => {
  it('sends RET= with ENVID= and marks the recipients given a NOTIFY as passed on', async () => {
    const { server, deliver } = await relayTo(true);
    const results = await deliver(dsnRequest());
    expect(results.map((r) => [r.address, r.status, r.dsnPassedOn])).toEqual([
      ['alice@remote.test', 'delivered', true],
      ['bob@remote.test', 'delivered', undefined],
      ['carol@remote.test', 'delivered', true],
    ]);
    expect(server.received[0]?.mailArgs).toMatchObject({ RET: 'HDRS', ENVID: 'ENV-7' });
  });

  it('sends no DSN parameters to a server without DSN, and nothing is passed on', async () => {
    const { server, deliver } = await relayTo(false);
    const results = await deliver(dsnRequest());
    expect(results.map((r) => [r.status, r.dsnPassedOn])).toEqual([
      ['delivered', undefined],
      ['delivered', undefined],
      ['delivered', undefined],
    ]);
    const args = JSON.stringify(server.received[0]?.mailArgs ?? {});
    expect(args).not.toContain('RET');
    expect(args).not.toContain('ENVID');
  });
});
