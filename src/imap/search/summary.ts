/**
 * The few header facts most searches ask (SUBJECT, FROM, TO, CC, BCC, SENT*): decoded and folded once per
 * message and kept by the store as opaque JSON (Mailbox.meta/saveMeta, kind 'search'), so such a SEARCH
 * over a mailbox reads a small cached record per message instead of the message — as Dovecot answers
 * them from its cache. HEADER, BODY and TEXT still read the message.
 */
import type { HeaderField } from '../../mail/mime/header-block.js';
import { sentDay } from './dates.js';
import { addressText, headerText } from './text-match.js';

export interface SearchSummary {
  /**
   * every Subject field, decoded and folded, runs of white space (folds, tabs) made one space: the SUBJECT
   * key matches this, as Dovecot does (`SUBJECT "tabs and"` finds "tabs  and"; HEADER Subject does not)
   */
  readonly subject: readonly string[];
  /** the address fields rebuilt as FROM/TO/CC/BCC match them (several fields joined by LF) */
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly bcc: string;
  /** the first Date field's day, or 0 (1970-01-01, as Dovecot) when there is none or it is not a date */
  readonly sentDay: number;
}

/** Bumped when the record's meaning changes: older records are computed again. */
const VERSION = 2;

export function summarize(fields: readonly HeaderField[]): SearchSummary {
  const subject: string[] = [];
  const addresses: Record<string, string[]> = { from: [], to: [], cc: [], bcc: [] };
  let day: number | undefined;
  for (const f of fields) {
    const name = f.name.toLowerCase();
    if (name === 'subject') subject.push(headerText(f).replace(/[ \t\r\n]+/g, ' '));
    else if (name in addresses) addresses[name]!.push(addressText(f));
    else if (name === 'date' && day === undefined) day = sentDay(f.value.replace(/\r?\n/g, '')) ?? 0;
  }
  return { subject, from: addresses.from!.join('\n'), to: addresses.to!.join('\n'), cc: addresses.cc!.join('\n'), bcc: addresses.bcc!.join('\n'), sentDay: day ?? 0 };
}

export function encodeSummary(s: SearchSummary): string {
  return JSON.stringify({ v: VERSION, ...s });
}

/** The cached record, or undefined when absent, damaged or of another version. */
export function decodeSummary(json: string | undefined): SearchSummary | undefined {
  if (json === undefined) return undefined;
  try {
    const o = JSON.parse(json) as SearchSummary & { v?: number };
    return o.v === VERSION ? o : undefined;
  } catch {
    return undefined;
  }
}
