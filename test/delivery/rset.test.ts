/**
 * A cached connection after a completed transaction goes on with the next MAIL as it is (the reply to the end
 * of data ends the transaction, RFC 5321 §4.1.1.4); after a transaction cut short (every RCPT refused), RSET
 * first. Against a scripted server that records every command.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from '../../src/delivery/transport.js';
import type { Transport } from '../../src/store/transport.js';
import { noAccounts, request } from './request.js';

let server: Server | undefined;
let transport: Transport | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  await transport?.close();
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
  transport = undefined;
});

/** A server that refuses RCPT TO <bad@…> and accepts everything else; `commands` is what it was sent. */
async function scripted(): Promise<{ port: number; commands: string[]; connections: () => number }> {
  const commands: string[] = [];
  let connections = 0;
  server = createServer((socket) => {
    connections += 1;
    sockets.push(socket);
    let buffered = '';
    let inData = false;
    socket.write('220 scripted ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffered.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffered = buffered.slice(end + 5);
          inData = false;
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const nl = buffered.indexOf('\r\n');
        if (nl < 0) return;
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 2);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        commands.push(verb);
        if (verb === 'EHLO') socket.write('250-scripted\r\n250 8BITMIME\r\n');
        else if (verb === 'RCPT' && /<bad@/i.test(line)) socket.write('550 5.1.1 no such user\r\n');
        else if (verb === 'DATA') {
          inData = true;
          // The end of data may already be in the buffer (it may have come with the command).
          buffered = '\r\n' + buffered;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  const srv = server;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const address = srv.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, commands, connections: () => connections };
}

describe('connection reuse', () => {
  it('sends RSET only after a transaction cut short, not after one that ended with the end of data', async () => {
    const peer = await scripted();
    transport = createTransport({ relayHost: `[127.0.0.1]:${peer.port}`, hostname: 'mailgate.test', connectTimeout: 5, commandTimeout: 10, connectionCacheTime: 30 }, noAccounts);
    expect((await transport.deliver(request(['a@remote.test'])))[0]?.status).toBe('delivered');
    expect((await transport.deliver(request(['b@remote.test'])))[0]?.status).toBe('delivered');
    expect((await transport.deliver(request(['bad@remote.test'])))[0]?.status).toBe('failed');
    expect((await transport.deliver(request(['c@remote.test'])))[0]?.status).toBe('delivered');
    expect(peer.connections()).toBe(1);
    expect(peer.commands).toEqual(['EHLO', 'MAIL', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'DATA', 'MAIL', 'RCPT', 'RSET', 'MAIL', 'RCPT', 'DATA']);
  });
});
