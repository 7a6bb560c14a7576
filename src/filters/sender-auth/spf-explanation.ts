/**
 * The text of an SPF fail reply: the domain's own explanation (RFC 7208 §6.2 `exp=`) when it publishes
 * one, else the usual pointer SPF milters give. Best effort and bounded: any DNS trouble or a bad macro
 * falls back to the default text.
 */
// mailauth's SPF macro expander (CommonJS; typed in mailauth-macro.d.ts).
import expand from 'mailauth/lib/spf/macro.js';
import type { DnsResolver } from '../shared/dns.js';
import type { SpfQuery } from '../shared/spf.js';
import { timerDelay } from '../../config/timer-limit.js';

const MAX_TEXT = 300;

export function defaultExplanation(query: SpfQuery, mailFrom: string): string {
  const id = encodeURIComponent(mailFrom);
  return `Please see https://www.open-spf.org/Why?s=mfrom;id=${id};ip=${query.ip};r=${encodeURIComponent(query.helo || 'unknown')}`;
}

/** The `exp=` domain-spec of an SPF record, if any. */
export function expModifier(record: string): string | undefined {
  const m = /(?:^|\s)exp=(\S+)/i.exec(record);
  return m?.[1];
}

export async function spfExplanation(
  record: string | undefined,
  query: SpfQuery,
  mailFrom: string,
  resolver: DnsResolver,
  mta: string,
  timeoutMs: number,
): Promise<string> {
  const fallback = defaultExplanation(query, mailFrom);
  const spec = record === undefined ? undefined : expModifier(record);
  if (spec === undefined) return fallback;
  const values = { sender: mailFrom, ip: query.ip, helo: query.helo, mta };
  let timer: NodeJS.Timeout | undefined;
  try {
    const name = expand(spec, values);
    const answer = await Promise.race([
      resolver(name, 'TXT'),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timerDelay(timeoutMs));
      }),
    ]);
    // Exactly one TXT record, its strings joined (§6.2); anything else: the default.
    if (!Array.isArray(answer) || answer.length !== 1) return fallback;
    const first: unknown = answer[0];
    const text = Array.isArray(first) ? first.map(String).join('') : String(first);
    const expanded = expand(text, values).replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_TEXT).trim();
    return expanded === '' ? fallback : expanded;
  } catch {
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}
