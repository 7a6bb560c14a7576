/** milter-test-server's report: status line, elapsed time, and with --output-message the message. */
import type { Header } from '../../mail/header-list.js';
import { textLines, type Reply } from '../../mail/reply.js';
import type { MessageState, SessionOutcome } from './session.js';

/** milter-manager's status names; continue is reported as "pass". */
const STATUS_NAME: Record<Reply['status'], string> = {
  continue: 'pass',
  skip: 'pass',
  accept: 'accept',
  reject: 'reject',
  tempfail: 'temporary-failure',
  discard: 'discard',
};

export function statusLine(reply: Reply): string {
  let line = `status: ${STATUS_NAME[reply.status]}`;
  const text = textLines(reply).join('\n');
  if (reply.code !== undefined || reply.enhancedCode !== undefined || text !== '') {
    line += ` [${reply.code ?? 0}]<${reply.enhancedCode ?? '(null)'}>(${text || '(null)'})`;
  }
  return line;
}

/** printf's %g: six significant digits, no trailing zeros. */
export function formatSeconds(seconds: number): string {
  return String(Number(seconds.toPrecision(6)));
}

export function report(outcome: SessionOutcome, outputMessage: boolean): string {
  const lines = [statusLine(outcome.reply), `elapsed-time: ${formatSeconds(outcome.elapsedSeconds)} seconds`];
  if (outcome.quarantine !== undefined) lines.push(`Quarantine reason: <${outcome.quarantine}>`);
  if (outputMessage) lines.push('', ...messageLines(outcome.original, outcome.result));
  return lines.join('\n') + '\n';
}

function messageLines(original: MessageState, result: MessageState): string[] {
  const out = ['Envelope:------------------------------'];
  if (original.from === result.from) out.push(`  MAIL FROM:${original.from}`);
  else out.push(`- MAIL FROM:${original.from}`, `+ MAIL FROM:${result.from}`);
  for (const [mark, rcpt] of diff(original.recipients, result.recipients, (a, b) => a === b)) {
    out.push(`${mark} RCPT TO:${rcpt}`);
  }
  out.push('Header:--------------------------------');
  const same = (a: Header, b: Header) => a.name === b.name && a.value === b.value;
  for (const [mark, h] of diff(original.headers.all, result.headers.all, same)) {
    const [first, ...rest] = h.value.split('\n');
    // Values from a milter using HDR_LEADSPC bring their own space after the colon.
    const sep = /^[ \t]/.test(first ?? '') ? ':' : ': ';
    out.push(`${mark} ${h.name}${sep}${first ?? ''}`);
    for (const cont of rest) out.push(`${mark} ${cont}`);
  }
  out.push('Body:----------------------------------');
  out.push((result.replacedBody ?? result.body).toString('utf8'));
  return out;
}

/** A longest-common-subsequence diff: ' ' kept, '-' removed, '+' added, in message order. */
export function diff<T>(before: readonly T[], after: readonly T[], eq: (a: T, b: T) => boolean): [' ' | '-' | '+', T][] {
  const n = before.length;
  const m = after.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = eq(before[i]!, after[j]!) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: [' ' | '-' | '+', T][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (eq(before[i]!, after[j]!)) {
      out.push([' ', before[i]!]);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push(['-', before[i++]!]);
    } else {
      out.push(['+', after[j++]!]);
    }
  }
  while (i < n) out.push(['-', before[i++]!]);
  while (j < m) out.push(['+', after[j++]!]);
  return out;
}
