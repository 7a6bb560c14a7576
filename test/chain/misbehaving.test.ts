/** Children that break the protocol are dropped with their fallback, logged once; the others go on. */
import { createServer, type Server } from 'node:net';
import { EVENT_STAGES } from '../../src/mail/stage.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Chain } from '../../src/chain/chain.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter } from '../../src/mail/define-filter.js';
import { CONTINUE } from '../../src/mail/reply.js';
import { MilterClient } from '../../src/milter/client.js';
import { Command } from '../../src/milter/constants.js';
import { encodePacket, PacketDecoder } from '../../src/milter/packet.js';
import { encodeResponse } from '../../src/milter/responses.js';
import { context } from '../milter/helpers.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A raw milter: answers OPTNEG normally, then `answer(code)` decides the bytes for each command. */
async function rawMilter(answer: (code: number) => Buffer | undefined): Promise<string> {
  const server = createServer((sock) => {
    const dec = new PacketDecoder(1 << 20);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      for (const p of dec.push(d)) {
        if (p.code === Command.OPTNEG) {
          sock.write(encodeResponse({ type: 'optneg', version: 6, actions: 0x1ff, protocol: 0, macroLists: new Map() }));
          continue;
        }
        if (p.code === Command.MACRO || p.code === Command.ABORT || p.code === Command.QUIT) continue;
        const out = answer(p.code);
        if (out) sock.write(out);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return `inet:${typeof addr === 'object' && addr ? addr.port : 0}@127.0.0.1`;
}

const CONT = encodeResponse({ type: 'continue' });
const warnings: string[] = [];
const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? ''),
  error: () => undefined,
  child() {
    return logger;
  },
} as never;

async function run(spec: string, fallback: 'accept' | 'tempfail') {
  warnings.length = 0;
  const chain = new Chain(
    [
      { name: 'bad', filter: new MilterClient({ spec, timeouts: { reading: 1 } }), fallbackStatus: fallback, evaluationMode: false, conditions: [] },
      {
        name: 'good',
        filter: defineFilter('good', { actions: ['addHeader'], stages: EVENT_STAGES }, () => ({
          endOfMessage: () => ({ reply: CONTINUE, changes: [{ kind: 'addHeader', name: 'X-Good', value: '1' }] }),
        })),
        fallbackStatus: 'accept',
        evaluationMode: false,
        conditions: [],
      },
    ],
    { fallbackStatus: 'accept', logger },
  );
  const s = chain.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  const replies = [
    await s.connect({ hostname: 'h', family: 'inet', address: '192.0.2.1', port: 1 }, ctx),
    await s.helo('h', ctx),
    await s.mail('<a@b>', [], ctx),
    await s.rcpt('<c@d>', [], ctx),
  ];
  await s.data(ctx);
  await s.header('Subject', ' x', ctx);
  await s.endOfHeaders(ctx);
  const eom = await s.endOfMessage(ctx);
  await s.close();
  chain.dispose();
  return { replies, eom };
}

describe('misbehaving children', () => {
  it('a child that modifies outside end of message is dropped with its fallback', async () => {
    const spec = await rawMilter((code) =>
      code === Command.MAIL ? encodeResponse({ type: 'addHeader', name: 'X-Early', value: 'no' }) : CONT,
    );
    const { replies, eom } = await run(spec, 'accept');
    // The bad child's fallback (accept) merged with the good child's continue.
    expect(replies[2]).toEqual(CONTINUE);
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Good', value: ' 1' }]);
    expect(warnings.filter((w) => w.includes('child bad failed'))).toHaveLength(1);
  });

  it('a child that sends garbage gives its fallback (tempfail) and is logged once', async () => {
    const spec = await rawMilter((code) => (code === Command.HELO ? encodePacket(0x7a, Buffer.from('junk')) : CONT));
    const { replies } = await run(spec, 'tempfail');
    expect(replies[1]?.status).toBe('tempfail');
    expect(warnings.filter((w) => w.includes('child bad failed'))).toHaveLength(1);
  });

  it('a child that answers an event it declared no-reply for is caught at the next command', async () => {
    // Negotiated with protocol 0 (everything answered) but sends two answers to CONNECT.
    const spec = await rawMilter((code) => (code === Command.CONNECT ? Buffer.concat([CONT, CONT]) : CONT));
    const { eom } = await run(spec, 'accept');
    expect(eom.changes).toEqual([{ kind: 'addHeader', name: 'X-Good', value: ' 1' }]);
    expect(warnings.some((w) => w.includes('child bad failed'))).toBe(true);
  });
});
