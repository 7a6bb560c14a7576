/**
 * Drives one milter session the way milter-test-server does, and keeps the message as the milter
 * left it (mail's Message, edited by applyChanges as an MTA would): a rejected recipient is dropped
 * and the session goes on while recipients remain.
 */
import { applyChanges } from '../../mail/apply-changes.js';
import { FULL_OFFER } from '../../mail/capabilities.js';
import type { SessionContext } from '../../mail/filter.js';
import { HeaderList } from '../../mail/header-list.js';
import { Message } from '../../mail/message.js';
import { CONTINUE, type Reply } from '../../mail/reply.js';
import type { ClientSession } from '../../milter/client-session.js';
import { Command } from '../../milter/constants.js';
import { MacroStore } from '../../milter/macro-store.js';
import { stagesForVersion } from '../../milter/negotiation.js';
import { normalizeEnvelopeAddress } from './mail-file.js';
import type { SessionPlan } from './plan.js';

export interface MessageState {
  from: string;
  recipients: string[];
  headers: HeaderList;
  body: Buffer;
  replacedBody?: Buffer;
}

export interface SessionOutcome {
  readonly reply: Reply;
  readonly quarantine?: string;
  readonly elapsedSeconds: number;
  readonly original: MessageState;
  readonly result: MessageState;
}

const ENDS = new Set(['accept', 'reject', 'tempfail', 'discard']);

export async function runSession(session: ClientSession, plan: SessionPlan): Promise<SessionOutcome> {
  const started = process.hrtime.bigint();
  const macros = new MacroStore();
  const ctx: SessionContext = { macros, progress: () => Promise.resolve() };
  const original: MessageState = {
    from: plan.from,
    recipients: [...plan.recipients],
    headers: new HeaderList(plan.headers),
    body: Buffer.concat(plan.bodyChunks),
  };
  // The plan's values are as the MTA sends them, without the space after the colon. Its body stays
  // in the plan: the report shows a replaced body only. Like Postfix, the message has its own
  // Received on top, not sent to the milter and not shown, but counted by header inserts.
  const edited = new Message(
    { sender: plan.from, senderArgs: [], recipients: plan.recipients.map((address) => ({ address, args: [] })) },
    new HeaderList(
      plan.headers.map((h) => ({ name: h.name, value: ` ${h.value}` })),
      { hiddenTop: { name: 'Received', value: ' by mailgate test-server' } },
    ),
  );
  let replacedBody: Buffer | undefined;
  const finish = (reply: Reply): SessionOutcome => ({
    reply,
    ...(edited.quarantine !== undefined ? { quarantine: edited.quarantine } : {}),
    elapsedSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    original,
    result: {
      from: normalizeEnvelopeAddress(edited.envelope.sender),
      recipients: edited.envelope.recipients.map((r) => normalizeEnvelopeAddress(r.address)),
      headers: new HeaderList(edited.headers.visible.map((h) => ({ name: h.name, value: h.value.startsWith(' ') ? h.value.slice(1) : h.value }))),
      body: original.body,
      ...(replacedBody !== undefined ? { replacedBody } : {}),
    },
  });
  try {
    const version = plan.negotiateVersion;
    await session.negotiate({ ...FULL_OFFER, version, stages: new Set(stagesForVersion(version)) });
    const step = async (command: number, pairs: SessionPlan['macros']['connect'], run: () => Promise<Reply>) => {
      macros.set(command, pairs);
      return run();
    };
    let r = await step(Command.CONNECT, plan.macros.connect, () => session.connect(plan.connect, ctx));
    if (ENDS.has(r.status)) return finish(r);
    r = await step(Command.HELO, plan.macros.helo, () => session.helo(plan.helo, ctx));
    if (ENDS.has(r.status)) return finish(r);
    r = await step(Command.MAIL, plan.macros.mail, () => session.mail(plan.from, [], ctx));
    if (ENDS.has(r.status)) return finish(r);
    for (const rcpt of plan.recipients) {
      const pairs = [...plan.macros.rcpt, ['{rcpt_addr}', rcpt] as const];
      r = await step(Command.RCPT, pairs, () => session.rcpt(rcpt, [], ctx));
      if (r.status === 'reject' || r.status === 'tempfail') {
        edited.envelope.recipients = edited.envelope.recipients.filter((x) => x.address !== rcpt);
        if (edited.envelope.recipients.length > 0) continue;
      }
      if (ENDS.has(r.status)) return finish(r);
    }
    if (plan.unknown !== undefined) {
      r = await session.unknown(plan.unknown, ctx);
      if (ENDS.has(r.status)) return finish(r);
    }
    r = await step(Command.DATA, plan.macros.data, () => session.data(ctx));
    if (ENDS.has(r.status)) return finish(r);
    // A milter that negotiated HDR_LEADSPC gets the value as it follows the colon, as Postfix sends it.
    const leadingSpace = session.capabilities?.leadingSpace === true;
    for (const h of plan.headers) {
      const value = leadingSpace && !/^[ \t]/.test(h.value) ? ` ${h.value}` : h.value;
      r = await session.header(h.name, value, ctx);
      if (ENDS.has(r.status)) return finish(r);
    }
    r = await step(Command.EOH, plan.macros.endOfHeaders, () => session.endOfHeaders(ctx));
    if (ENDS.has(r.status)) return finish(r);
    for (const chunk of plan.bodyChunks) {
      r = await session.body(chunk, ctx);
      if (r.status === 'skip') break;
      if (ENDS.has(r.status)) return finish(r);
    }
    macros.set(Command.BODYEOB, plan.macros.endOfMessage);
    const eom = await session.endOfMessage(ctx);
    await applyChanges(edited, eom.changes, { leadingSpace });
    if (eom.changes.some((c) => c.kind === 'replaceBody')) replacedBody = await edited.body.toBuffer();
    return finish(eom.reply.status === 'skip' ? CONTINUE : eom.reply);
  } finally {
    session.close();
  }
}
