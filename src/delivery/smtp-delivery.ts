/**
 * One message to one destination over SMTP or LMTP: take a cached connection or connect to the next hop's
 * addresses in order (the next one on a refused connection, a timeout or a 4xx/5xx greeting, as RFC 5321
 * §5.1 and Postfix do), send the transaction, and turn every reply into a result per recipient. The
 * connection goes back to the cache when it is still good: as it is after a transaction that ended with the
 * reply to the end of data (RFC 5321 §4.1.1.4: that reply ends the transaction and clears the server's
 * state; nodemailer's own pool reuses it so too), after RSET when a transaction was cut short.
 */
import type { Readable } from 'node:stream';
import type { DeliveryRequest, RecipientResult } from '../store/transport.js';
import type { QueuedRecipient } from '../store/spool.js';
import type { ConnectionCache } from './connection-pool.js';
import type { ClientError, SmtpClient } from './smtp-client.js';
import { oneLine, ownResult, resultFromReply } from './smtp-reply.js';
import { rcptDsnArgs } from './dsn-args.js';

/** One place to connect to. */
export interface Target {
  /** "mx.example.org[192.0.2.1]" (diagnostics). */
  readonly label: string;
  /** "mx.example.org[192.0.2.1]:25" (connection diagnostics). */
  readonly relay: string;
  /** Connects and greets (EHLO/LHLO, STARTTLS). */
  open(): Promise<SmtpClient>;
}

export interface GroupDelivery {
  /** The cache key: the destination (a domain, the relay host, "lmtp"). */
  readonly key: string;
  readonly targets: readonly Target[];
  readonly request: DeliveryRequest;
  readonly recipients: readonly QueuedRecipient[];
  readonly cache: ConnectionCache;
  /** The command name in diagnostics: "LHLO"/"end of DATA" are the same for both. */
  readonly lmtp: boolean;
}

const nonAscii = (s: string): boolean => [...s].some((c) => (c.codePointAt(0) ?? 0) > 0x7f);

/** What a connection-level error was, in Postfix's words. */
function connectionProblem(err: ClientError, label: string, phase: string): string {
  const reason = err.originalCode ?? err.code ?? 'error';
  if (err.code === 'ETIMEDOUT' || err.timeoutType !== undefined) return `conversation with ${label} timed out ${phase}`;
  if (err.code === 'ECONNECTION' || err.code === 'ESOCKET') return `lost connection with ${label} ${phase} (${reason}: ${oneLine(err.message)})`;
  return `${label}: ${oneLine(err.message)} (${reason})`;
}


/** Connects to the first target that answers with a 2xx greeting; or why none did. */
async function connect(targets: readonly Target[]): Promise<SmtpClient | { diagnostic: string; enhanced: string }> {
  let last = { diagnostic: 'no address to connect to', enhanced: '4.4.1' };
  for (const target of targets) {
    try {
      return await target.open();
    } catch (e) {
      const err = e as ClientError;
      if (err.command === 'AUTH') {
        // Postfix (smtp_sasl_auth_soft_bounce=yes): a failed login defers, so a fixed password gets the mail out.
        last = { diagnostic: `SASL authentication failed; server ${target.label} said: ${oneLine(err.response ?? err.message)}`, enhanced: '4.7.0' };
      } else if (err.response !== undefined) {
        last = { diagnostic: `host ${target.label} refused to talk to me: ${oneLine(err.response)}`, enhanced: '4.4.1' };
      } else if (err.code === 'ETIMEDOUT') {
        const what =
          err.timeoutType === 'CONNECT_TIMEOUT'
            ? 'Connection timed out'
            : err.timeoutType === 'GREETING_TIMEOUT'
              ? 'timed out while receiving the initial server greeting'
              : 'timed out during the EHLO/STARTTLS exchange';
        last = { diagnostic: `connect to ${target.relay}: ${what}`, enhanced: '4.4.1' };
      } else {
        const sys = err.originalCode ?? err.code ?? 'error';
        const text = sys === 'ECONNREFUSED' ? 'Connection refused' : oneLine(err.message);
        last = { diagnostic: `connect to ${target.relay}: ${text}`, enhanced: '4.4.1' };
      }
    }
  }
  return last;
}

/** Delivers to one destination; never rejects. */
export async function deliverGroup(group: GroupDelivery): Promise<RecipientResult[]> {
  const { cache, key } = group;
  // Postfix sends one RCPT per address; a duplicate would confuse the per-address replies.
  const byAddress = new Map<string, QueuedRecipient>();
  for (const r of group.recipients) if (!byAddress.has(r.address)) byAddress.set(r.address, r);
  const results = new Map<string, RecipientResult>();
  const finish = (): RecipientResult[] =>
    group.recipients.map((r) => results.get(r.address) ?? ownResult(r.address, 'deferred', '4.3.0', 'internal error: no result'));

  // A cached connection may have been closed by the server meanwhile: then once more on a fresh one.
  for (let attempt = 0; attempt < 2; attempt++) {
    const cached = attempt === 0 ? cache.take(key) : undefined;
    let client: SmtpClient;
    if (cached !== undefined) {
      client = cached;
    } else {
      const opened = await connect(group.targets);
      if (!('send' in opened)) {
        for (const address of byAddress.keys()) results.set(address, ownResult(address, 'deferred', opened.enhanced, opened.diagnostic));
        return finish();
      }
      client = opened;
    }
    const outcome = await transaction(client, group, byAddress, results);
    if (outcome === 'retry' && cached !== undefined) {
      client.close();
      results.clear();
      continue;
    }
    if (outcome === 'done' && client.alive) cache.put(key, client);
    else if (outcome === 'ok' && client.alive && (await client.reset())) cache.put(key, client);
    else client.close();
    return finish();
  }
  return finish();
}

/**
 * One transaction on `client`, filling `results`. 'done': the transaction ended (or never began), the
 * session is ready for the next one as it is; 'ok': usable after RSET; 'retry': the connection broke (worth
 * one more try when it was a cached one); 'broken': the connection must not be reused.
 */
async function transaction(
  client: SmtpClient,
  group: GroupDelivery,
  byAddress: ReadonlyMap<string, QueuedRecipient>,
  results: Map<string, RecipientResult>,
): Promise<'done' | 'ok' | 'retry' | 'broken'> {
  const { request } = group;
  const host = client.label;
  const relay = client.relay;
  const ext = client.extensions;
  let addresses = [...byAddress.keys()];

  // RFC 6531: an address that needs SMTPUTF8 cannot go to a server that does not offer it (Postfix: 5.6.7).
  if (!ext.has('SMTPUTF8')) {
    const why = `SMTPUTF8 is required, but was not offered by host ${host}`;
    const needs = nonAscii(request.sender) ? addresses : addresses.filter(nonAscii);
    for (const a of needs) results.set(a, ownResult(a, 'failed', '5.6.7', why, relay));
    addresses = addresses.filter((a) => !results.has(a));
    if (addresses.length === 0) return 'done';
  }

  const rcptArgs = new Map<string, string>();
  if (ext.has('DSN')) {
    for (const a of addresses) {
      const args = rcptDsnArgs(byAddress.get(a) as QueuedRecipient);
      if (args !== '') rcptArgs.set(a, args);
    }
  }
  const envelope = {
    from: request.sender,
    to: addresses,
    size: request.size,
    rcptArgs,
    ...(request.envid !== undefined && ext.has('DSN') ? { envid: request.envid } : {}),
    ...(request.ret !== undefined && ext.has('DSN') ? { ret: request.ret } : {}),
  };
  // RFC 3461 §6.2.3: a next hop that offers DSN and is given the recipient's NOTIFY reports from here on, so
  // our "relayed" notice would be a second one (Postfix sends "relayed" only to a server without DSN).
  const passedOn = (a: string): boolean => / NOTIFY=/.test(rcptArgs.get(a) ?? '');
  const delivered = (a: string, r: RecipientResult): RecipientResult => (r.status === 'delivered' && passedOn(a) ? { ...r, dsnPassedOn: true } : r);
  let message: Readable;
  try {
    message = request.openMessage();
  } catch (e) {
    for (const a of addresses) results.set(a, ownResult(a, 'deferred', '4.3.0', `error opening the queue file: ${oneLine(String(e))}`));
    return 'done';
  }
  const endCommand = 'end of DATA';
  try {
    const info = await client.send(envelope, message);
    const rejected = new Map((info.rejectedErrors ?? []).map((e) => [(e as ClientError).recipient ?? '', e as ClientError]));
    for (const a of addresses) {
      const err = rejected.get(a);
      if (err?.response !== undefined) {
        results.set(a, resultFromReply(a, err.response, host, relay, err.command === 'RCPT TO' ? 'RCPT TO' : endCommand));
      } else if (info.accepted.includes(a)) {
        results.set(a, delivered(a, resultFromReply(a, info.lmtpReplies.get(a) ?? info.response, host, relay, endCommand)));
      }
    }
    return 'done';
  } catch (e) {
    message.destroy();
    const err = e as ClientError;
    if (err.code === 'ESTREAM') {
      for (const a of addresses) results.set(a, ownResult(a, 'deferred', '4.3.0', `error reading the queue file: ${oneLine(err.message)}`));
      return 'broken';
    }
    if (err.response !== undefined && err.responseCode !== undefined) {
      const perRecipient = new Map((err.rejectedErrors ?? []).map((r) => [r.recipient ?? '', r]));
      const command = err.command === 'MAIL FROM' ? 'MAIL FROM' : err.command === 'DATA' && /^Data command/.test(err.message) ? 'DATA' : err.command === 'RCPT TO' ? 'RCPT TO' : endCommand;
      for (const a of addresses) {
        const own = perRecipient.get(a);
        results.set(a, own?.response !== undefined ? resultFromReply(a, own.response, host, relay, 'RCPT TO') : resultFromReply(a, err.response, host, relay, command));
      }
      // A 421 ends the session (on a cached one, often the server's idle timeout: worth a fresh connection
      // when it came before the message was sent); anything else leaves it usable.
      if (err.responseCode === 421) return err.command === 'MAIL FROM' ? 'retry' : 'broken';
      return 'ok';
    }
    if (err.code === 'EMESSAGE' && err.command === 'MAIL FROM') {
      // nodemailer refuses, before sending, a message larger than the server's SIZE (RFC 1870).
      const why = `message size ${request.size} exceeds size limit of server ${host}`;
      for (const a of addresses) results.set(a, ownResult(a, 'failed', '5.3.4', why, relay));
      return 'ok';
    }
    const phase = err.command === 'MAIL FROM' || err.command === 'RCPT TO' ? `while sending ${err.command}` : 'while sending the message';
    for (const a of addresses) results.set(a, ownResult(a, 'deferred', '4.4.2', connectionProblem(err, host, phase), relay));
    return 'retry';
  }
}
