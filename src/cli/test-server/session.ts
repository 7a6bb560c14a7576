/**
 * Drives one milter session the way milter-test-server does, and keeps the message as the milter
 * left it: a rejected recipient is dropped and the session goes on while recipients remain.
 */
import { FULL_OFFER } from '../../mail/capabilities.js';
import type { Change } from '../../mail/changes.js';
import type { SessionContext } from '../../mail/filter.js';
import { HeaderList } from '../../mail/header-list.js';
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
  const result: MessageState = { ...original, recipients: [...original.recipients], headers: original.headers.clone() };
  let quarantine: string | undefined;
  const finish = (reply: Reply): SessionOutcome => ({
    reply,
    ...(quarantine !== undefined ? { quarantine } : {}),
    elapsedSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    original,
    result,
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
        result.recipients = result.recipients.filter((x) => x !== rcpt);
        if (result.recipients.length > 0) continue;
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
    quarantine = apply(result, eom.changes);
    return finish(eom.reply.status === 'skip' ? CONTINUE : eom.reply);
  } finally {
    session.close();
  }
}

function apply(message: MessageState, changes: readonly Change[]): string | undefined {
  message.headers.apply(changes);
  let quarantine: string | undefined;
  for (const c of changes) {
    switch (c.kind) {
      case 'replaceBody':
        message.replacedBody = Buffer.concat([message.replacedBody ?? Buffer.alloc(0), c.body]);
        break;
      case 'addRecipient':
        message.recipients.push(normalizeEnvelopeAddress(c.recipient));
        break;
      case 'deleteRecipient': {
        const gone = normalizeEnvelopeAddress(c.recipient);
        const i = message.recipients.indexOf(gone);
        if (i !== -1) message.recipients.splice(i, 1);
        break;
      }
      case 'changeSender':
        message.from = normalizeEnvelopeAddress(c.sender);
        break;
      case 'quarantine':
        quarantine = c.reason;
        break;
      default:
        break;
    }
  }
  return quarantine;
}
