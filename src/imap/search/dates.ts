/**
 * The dates SEARCH compares (RFC 3501 §6.4.4), as whole days "disregarding time and timezone": BEFORE, ON
 * and SINCE use the internal date as INTERNALDATE prints it (its own zone); SENTBEFORE, SENTON and
 * SENTSINCE the Date: header's day as written in the header's own zone. Days are counted from 1970-01-01.
 */
import type { InternalDate } from '../../store/mailbox/mailbox-store.js';
import type { ImapDate } from '../wire/datetime.js';
import type { DateOp } from './parse.js';

const DAY_MS = 86_400_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

export function dayOf(date: ImapDate): number {
  const d = new Date(Date.UTC(2000, date.month - 1, date.day));
  d.setUTCFullYear(date.year);
  return Math.floor(d.getTime() / DAY_MS);
}

/** The internal date's day in the zone it carries. */
export function internalDay(date: InternalDate): number {
  return Math.floor((date.ms + date.tzMinutes * 60_000) / DAY_MS);
}

/**
 * The day of an RFC 5322 date (obsolete forms accepted: two-digit years, missing seconds, named zones
 * and comments ignored), or undefined when the value is not a date.
 */
export function sentDay(value: string): number | undefined {
  const m = /^\s*(?:[A-Za-z]{3,}\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\s+(\d{2,4})\s/.exec(value + ' ');
  if (m === null) return undefined;
  const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
  if (month === 0) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const day = Number(m[1]);
  if (day < 1 || day > 31) return undefined;
  return dayOf({ year, month, day });
}

export function compareDay(day: number, op: DateOp, target: number): boolean {
  switch (op) {
    case 'before':
      return day < target;
    case 'on':
      return day === target;
    case 'since':
      return day >= target;
  }
}
