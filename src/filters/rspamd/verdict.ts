/**
 * rspamd's answer → the end-of-message reply and changes, in the order rspamd's own milter proxy
 * produces them (rspamd_milter_send_task_results): the `milter` block first (header removals and
 * additions, sender, recipients), DKIM signatures, then the action:
 *
 * | action          | result                                                            |
 * |-----------------|-------------------------------------------------------------------|
 * | reject          | 554 5.7.1 smtp_message / reject_message ("Spam message rejected") |
 * | soft reject     | 451 4.7.1 smtp_message / "Try again later"                        |
 * | greylist        | accept (rspamd's milter); 451 4.7.1 with greylist_action=tempfail |
 * | add header      | every spam_header (X-Spam) replaced by "Yes"                      |
 * | rewrite subject | Subject = the reply's `subject`, else the pattern with %s         |
 * | quarantine      | quarantined ("Spam message quarantined")                          |
 * | discard         | discarded                                                         |
 * | no action, else | accept                                                            |
 *
 * Pure: the message is seen only through the header counts the MTA sent.
 */
import type { Change, EndOfMessageResult } from '../../mail/changes.js';
import { ACCEPT, DISCARD, reject, tempfail, type Reply } from '../../mail/reply.js';
import { isHeaderName, milterHeaderValue, replyLines } from './header-value.js';
import type { CheckReply, MilterBlock } from './reply.js';

/** The headers of the message as rspamd's milter saw them. */
export interface MessageHeaders {
  /** Number of headers named `name` (case-insensitive). */
  count(name: string): number;
  /** Number of headers in all. */
  readonly total: number;
  /** The first Subject, if any. */
  readonly subject?: string;
}

export interface VerdictSettings {
  readonly rejectMessage: string;
  readonly tempfailMessage: string;
  readonly greylistAction: 'accept' | 'tempfail';
  readonly spamHeader: string;
  readonly rewriteSubject: string;
  readonly scoreHeader?: string;
  readonly resultHeader?: string;
  readonly milterBlock: boolean;
}

export const REJECT_CODE = 554;
export const TEMPFAIL_CODE = 451;
export const QUARANTINE_REASON = 'Spam message quarantined';
/** rspamd's RSPAMD_MILTER_ACTION_HEADER, added when the milter block says no_action. */
export const ACTION_HEADER = 'X-Rspamd-Action';

export interface Verdict extends EndOfMessageResult {
  /** What was done, for the log line: "reject", "add header", "accept (no_action)", ... */
  readonly outcome: string;
}

export function verdictFor(r: CheckReply, headers: MessageHeaders, s: VerdictSettings): Verdict {
  const changes: Change[] = [];
  const block = s.milterBlock ? r.milter : undefined;
  if (block) applyBlock(block, headers, changes);

  // The add header action with a spam_header in the block: that replaces rspamd's own header.
  if (r.action === 'add header' && block?.spamHeader !== undefined) {
    const pairs = typeof block.spamHeader === 'string' ? [{ name: s.spamHeader, value: block.spamHeader }] : block.spamHeader;
    for (const { name, value } of pairs) replaceHeader(name, value, headers, changes);
    addDkim(r, changes);
    return accepted('add header (milter spam_header)', r, headers, s, changes);
  }
  addDkim(r, changes);
  if (block?.noAction === true) {
    changes.push({ kind: 'addHeader', name: ACTION_HEADER, value: milterHeaderValue(r.action) });
    return accepted(`accept (no_action: ${r.action})`, r, headers, s, changes);
  }

  const smtpText = r.smtpMessage === undefined ? [] : replyLines(r.smtpMessage);
  const text = (fallback: string): string | string[] => (smtpText.length === 0 ? fallback : smtpText.length === 1 ? smtpText[0]! : smtpText);
  switch (r.action) {
    case 'reject':
      if (block?.rejectAs === 'discard') return refused('discard (milter reject)', DISCARD);
      if (block?.rejectAs === 'quarantine') return quarantined('quarantine (milter reject)', r, headers, s, changes);
      return refused('reject', reject(REJECT_CODE, '5.7.1', text(s.rejectMessage)));
    case 'soft reject':
      return refused('soft reject', tempfail(TEMPFAIL_CODE, '4.7.1', text(s.tempfailMessage)));
    case 'greylist':
      if (s.greylistAction === 'tempfail') return refused('greylist', tempfail(TEMPFAIL_CODE, '4.7.1', text(s.tempfailMessage)));
      return accepted('greylist (accepted)', r, headers, s, changes);
    case 'rewrite subject': {
      const subject = r.subject ?? s.rewriteSubject.replace(/%s/g, () => headers.subject?.trim() ?? '');
      changes.push({ kind: 'changeHeader', name: 'Subject', index: 1, value: milterHeaderValue(subject) });
      return accepted('rewrite subject', r, headers, s, changes);
    }
    case 'add header':
      replaceHeader(s.spamHeader, 'Yes', headers, changes);
      return accepted('add header', r, headers, s, changes);
    case 'quarantine':
      return quarantined('quarantine', r, headers, s, changes);
    case 'discard':
      return refused('discard', DISCARD);
    case 'no action':
      return accepted('no action', r, headers, s, changes);
    default:
      // A custom action rspamd registered: its milter accepts (the switch's default branch).
      return accepted(`accept (unknown action ${JSON.stringify(r.action)})`, r, headers, s, changes);
  }
}

function refused(outcome: string, reply: Reply): Verdict {
  return { outcome, reply, changes: [] };
}

function quarantined(outcome: string, r: CheckReply, headers: MessageHeaders, s: VerdictSettings, changes: Change[]): Verdict {
  changes.push({ kind: 'quarantine', reason: QUARANTINE_REASON });
  return accepted(outcome, r, headers, s, changes);
}

function accepted(outcome: string, r: CheckReply, headers: MessageHeaders, s: VerdictSettings, changes: Change[]): Verdict {
  if (s.scoreHeader !== undefined && r.score !== undefined) {
    replaceHeader(s.scoreHeader, scoreText(r), headers, changes);
  }
  if (s.resultHeader !== undefined && r.score !== undefined) {
    replaceHeader(s.resultHeader, resultText(r), headers, changes);
  }
  return { outcome, reply: ACCEPT, changes };
}

/** Deletes every `name` the message has (last first, so indexes stay right), then adds one. */
function replaceHeader(name: string, value: string, headers: MessageHeaders, changes: Change[]): void {
  if (!isHeaderName(name)) return;
  removeHeader(name, 0, headers, changes);
  changes.push({ kind: 'addHeader', name, value: milterHeaderValue(value) });
}

/**
 * rspamd_milter_remove_header_safe: index 0 removes every occurrence, n ≥ 1 the n-th, a negative
 * index counts from the last. Only headers the message has are touched.
 */
function removeHeader(name: string, index: number, headers: MessageHeaders, changes: Change[]): void {
  const n = headers.count(name);
  if (n === 0) return;
  if (index >= 1) {
    if (index <= n) changes.push({ kind: 'deleteHeader', name, index });
  } else if (index === 0) {
    for (let i = n; i >= 1; i--) changes.push({ kind: 'deleteHeader', name, index: i });
  } else if (-index <= n) {
    changes.push({ kind: 'deleteHeader', name, index: n + index + 1 });
  }
}

function applyBlock(b: MilterBlock, headers: MessageHeaders, changes: Change[]): void {
  const before = changes.length;
  for (const { name, index } of b.removeHeaders) {
    if (isHeaderName(name)) removeHeader(name, index, headers, changes);
  }
  // Negative orders count back from the end (-1: after the last header). rspamd counts from the
  // headers the MTA sent; the changes already made are counted too, so -1 stays "at the end".
  let total = headers.total - (changes.length - before); // the removals just made
  for (const h of b.addHeaders) {
    if (!isHeaderName(h.name)) continue;
    const value = milterHeaderValue(h.value);
    if (h.order === undefined) {
      changes.push({ kind: 'addHeader', name: h.name, value });
    } else {
      const index = h.order >= 0 ? h.order : -h.order <= total ? total + h.order + 1 : 0;
      changes.push({ kind: 'insertHeader', name: h.name, value, index });
    }
    total++;
  }
  if (b.changeFrom !== undefined && b.changeFrom.trim() !== '') changes.push({ kind: 'changeSender', sender: envelopeAddress(b.changeFrom) });
  for (const rcpt of b.addRcpt) if (rcpt.trim() !== '') changes.push({ kind: 'addRecipient', recipient: envelopeAddress(rcpt) });
  for (const rcpt of b.delRcpt) if (rcpt.trim() !== '') changes.push({ kind: 'deleteRecipient', recipient: envelopeAddress(rcpt) });
}

/** An address as milter actions carry it: in angle brackets, without control characters. */
function envelopeAddress(address: string): string {
  // eslint-disable-next-line no-control-regex
  const a = address.replace(/[\x00-\x1f\x7f]/g, '').trim();
  return a.startsWith('<') ? a : `<${a}>`;
}

/** The DKIM signatures rspamd made, on top of the message (rspamd inserts them first). */
function addDkim(r: CheckReply, changes: Change[]): void {
  r.dkimSignatures.forEach((value, i) => changes.push({ kind: 'insertHeader', name: 'DKIM-Signature', value: milterHeaderValue(value), index: i }));
}

function fixed(n: number | undefined): string {
  return (n ?? 0).toFixed(2);
}

/** "6.20 / 15.00" */
export function scoreText(r: CheckReply): string {
  return `${fixed(r.score)} / ${fixed(r.requiredScore)}`;
}

/** Like rspamd's X-Spamd-Result: "default: True [16.00 / 15.00];\n\tSYM(16.00)[opt1,opt2]". */
export function resultText(r: CheckReply): string {
  const isSpam = r.requiredScore !== undefined && r.score !== undefined && r.score >= r.requiredScore;
  const head = `default: ${isSpam ? 'True' : 'False'} [${scoreText(r)}]`;
  const symbols = [...r.symbols]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((sym) => `${sym.name}(${fixed(sym.score)})[${sym.options.join(',')}]`);
  return [head, ...symbols].join(';\n\t');
}
