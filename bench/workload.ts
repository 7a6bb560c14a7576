/**
 * The benchmark's SMTP session, as a Postfix-like MTA would relay it to a milter: negotiate, connect,
 * helo, mail, 2 rcpt, data, 10 headers, eoh, a 4 KiB body, eom (the filter adds one header), quit.
 * That is 20 round trips; the macro packets ride in the same write as their event.
 */
import { FULL_OFFER, capabilitiesFor, type Wants } from '../src/mail/capabilities.js';
import type { ConnectionInfo } from '../src/mail/connection.js';
import { defineFilter } from '../src/mail/define-filter.js';
import type { Filter, SessionContext } from '../src/mail/filter.js';
import { CONTINUE, type Reply } from '../src/mail/reply.js';
import type { MacroStage } from '../src/mail/stage.js';
import type { MilterClient } from '../src/milter/client.js';
import { offerProtocolBits } from '../src/milter/client-session.js';
import { encodeCommand, type MilterCommand } from '../src/milter/commands.js';
import { Command } from '../src/milter/constants.js';
import { MacroStore } from '../src/milter/macro-store.js';
import { actionBits, negotiateAsFilter } from '../src/milter/negotiation.js';
import { encodeResponse, type MilterResponse } from '../src/milter/responses.js';

type Pairs = readonly (readonly [string, string])[];

const QUEUE_ID = '4XyZq71mNcz3xYk';

/** Postfix's default macro lists, with plausible values. */
export const MACROS = {
  connect: [
    ['j', 'mx1.example.net'],
    ['{daemon_name}', 'smtpd'],
    ['v', 'Postfix 3.8.5'],
    ['_', 'client.example.com [192.0.2.10]'],
  ],
  helo: [
    ['{tls_version}', 'TLSv1.3'],
    ['{cipher}', 'TLS_AES_256_GCM_SHA384'],
    ['{cipher_bits}', '256'],
  ],
  mail: [
    ['i', QUEUE_ID],
    ['{auth_type}', 'PLAIN'],
    ['{auth_authen}', 'alice'],
    ['{mail_addr}', 'alice@example.com'],
  ],
  data: [['i', QUEUE_ID]],
  endOfHeaders: [['i', QUEUE_ID]],
  endOfMessage: [['i', QUEUE_ID]],
} satisfies Partial<Record<MacroStage, Pairs>>;

export const RECIPIENTS: readonly { readonly address: string; readonly macros: Pairs }[] = [
  'bob@example.org',
  'carol@example.org',
].map((a) => ({
  address: `<${a}>`,
  macros: [
    ['{rcpt_addr}', a],
    ['{rcpt_host}', 'example.org'],
    ['{rcpt_mailer}', 'smtp'],
  ],
}));

export const CONNECTION: ConnectionInfo = {
  hostname: 'client.example.com',
  family: 'inet',
  address: '192.0.2.10',
  port: 49152,
};
export const HELO = 'client.example.com';
export const SENDER = '<alice@example.com>';
export const MAIL_ARGS: readonly string[] = ['SIZE=5120', 'BODY=8BITMIME'];

export const HEADERS: readonly (readonly [string, string])[] = [
  ['Received', `from client.example.com (client.example.com [192.0.2.10])\n\tby mx1.example.net (Postfix) with ESMTPSA id ${QUEUE_ID}\n\tfor <bob@example.org>; Mon, 3 Mar 2025 10:00:00 +0000 (UTC)`],
  ['From', 'Alice Example <alice@example.com>'],
  ['To', 'Bob <bob@example.org>, Carol <carol@example.org>'],
  ['Subject', 'Quarterly report: figures for the milter benchmark'],
  ['Date', 'Mon, 3 Mar 2025 10:00:00 +0000'],
  ['Message-ID', '<20250303100000.1234567@client.example.com>'],
  ['MIME-Version', '1.0'],
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['Content-Transfer-Encoding', '8bit'],
  ['X-Mailer', 'bench 1.0'],
];

export const BODY_SIZE = 4096;
export const BODY: Buffer = (() => {
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  return Buffer.from(line.repeat(Math.ceil(BODY_SIZE / line.length))).subarray(0, BODY_SIZE);
})();

export const ADDED_HEADER = 'X-Bench-Checked';

const WANTS: Wants = { actions: ['addHeader'] };

/** The server-side filter: answers continue everywhere, adds one header at end of message. */
export function benchFilter(): Filter {
  return defineFilter('bench', WANTS, () => ({
    endOfMessage: (ctx) => ({
      reply: CONTINUE,
      changes: [{ kind: 'addHeader', name: ADDED_HEADER, value: `yes; queue-id=${ctx.macros.get('i') ?? 'unknown'}` }],
    }),
  }));
}

function expectContinue(stage: string, r: Reply): void {
  if (r.status !== 'continue') throw new Error(`bench: ${stage} answered ${r.status}`);
}

/**
 * One whole milter session through `client`, as an MTA drives it; throws on any unexpected answer.
 * `expect`: the bench filter's one added header, or no change at all (a pass-through milter).
 */
export async function milterSession(client: MilterClient, expect: 'added-header' | 'no-change' = 'added-header'): Promise<void> {
  const s = client.open();
  const store = new MacroStore();
  const ctx: SessionContext = { macros: store, progress: () => Promise.resolve() };
  try {
    await s.negotiate(FULL_OFFER);
    store.set(Command.CONNECT, MACROS.connect);
    expectContinue('connect', await s.connect(CONNECTION, ctx));
    store.set(Command.HELO, MACROS.helo);
    expectContinue('helo', await s.helo(HELO, ctx));
    store.set(Command.MAIL, MACROS.mail);
    expectContinue('mail', await s.mail(SENDER, MAIL_ARGS, ctx));
    for (const r of RECIPIENTS) {
      store.set(Command.RCPT, r.macros);
      expectContinue('rcpt', await s.rcpt(r.address, [], ctx));
    }
    store.set(Command.DATA, MACROS.data);
    expectContinue('data', await s.data(ctx));
    for (const [name, value] of HEADERS) expectContinue('header', await s.header(name, value, ctx));
    store.set(Command.EOH, MACROS.endOfHeaders);
    expectContinue('eoh', await s.endOfHeaders(ctx));
    expectContinue('body', await s.body(BODY, ctx));
    store.set(Command.BODYEOB, MACROS.endOfMessage);
    const eom = await s.endOfMessage(ctx);
    expectContinue('eom', eom.reply);
    const change = eom.changes[0];
    const ok =
      expect === 'no-change'
        ? eom.changes.length === 0
        : eom.changes.length === 1 && change?.kind === 'addHeader' && change.name === ADDED_HEADER;
    if (!ok) {
      throw new Error(`bench: unexpected end-of-message changes ${JSON.stringify(eom.changes)}`);
    }
  } finally {
    s.close();
  }
}

/** Bytes of each round trip of one milter session (request incl. its macro packet, reply), and of QUIT. */
export interface SessionShape {
  readonly requests: readonly number[];
  readonly replies: readonly number[];
  readonly quit: number;
}

/**
 * The wire sizes of milterSession(), computed with the codec once, so the raw ping-pong reference can
 * move the same bytes in the same number of round trips without any milter code in its loop.
 */
export function sessionShape(): SessionShape {
  const requests: number[] = [];
  const replies: number[] = [];
  const cont = encodeResponse({ type: 'continue' }).length;
  const macro = (stage: number, pairs: Pairs) => encodeCommand({ type: 'macro', stage, macros: pairs }).length;
  const rt = (cmd: MilterCommand, macros = 0, reply = cont) => {
    requests.push(macros + encodeCommand(cmd).length);
    replies.push(reply);
  };
  const offered = { version: FULL_OFFER.version, actions: actionBits(FULL_OFFER.actions), protocol: offerProtocolBits(FULL_OFFER) };
  const neg = negotiateAsFilter(offered, capabilitiesFor(FULL_OFFER, WANTS));
  rt({ type: 'optneg', ...offered }, 0, encodeResponse({ type: 'optneg', ...neg.reply }).length);
  rt(
    { type: 'connect', hostname: CONNECTION.hostname, family: 'inet', port: CONNECTION.port ?? 0, address: CONNECTION.address ?? '' },
    macro(Command.CONNECT, MACROS.connect),
  );
  rt({ type: 'helo', name: HELO }, macro(Command.HELO, MACROS.helo));
  rt({ type: 'mail', args: [SENDER, ...MAIL_ARGS] }, macro(Command.MAIL, MACROS.mail));
  for (const r of RECIPIENTS) rt({ type: 'rcpt', args: [r.address] }, macro(Command.RCPT, r.macros));
  rt({ type: 'data' }, macro(Command.DATA, MACROS.data));
  for (const [name, value] of HEADERS) rt({ type: 'header', name, value });
  rt({ type: 'eoh' }, macro(Command.EOH, MACROS.endOfHeaders));
  rt({ type: 'body', chunk: BODY });
  const added: MilterResponse = { type: 'addHeader', name: ADDED_HEADER, value: `yes; queue-id=${QUEUE_ID}` };
  rt(
    { type: 'bodyeob', chunk: Buffer.alloc(0) },
    macro(Command.BODYEOB, MACROS.endOfMessage),
    encodeResponse(added).length + cont,
  );
  return { requests, replies, quit: encodeCommand({ type: 'quit' }).length };
}
