/**
 * IMAP dates: date-time ("dd-Mon-yyyy hh:mm:ss +zzzz", INTERNALDATE and APPEND) and date ("d-Mon-yyyy",
 * SEARCH BEFORE/ON/SINCE). Parse and format, without quotes (the cursor strips them). Months are read
 * case-insensitively and written "Jan".."Dec"; the day is written with two digits ("03-Dec-2026"), as
 * Dovecot writes it. Dovecot normalises impossible dates (31-Feb, 24:00:00) through mktime; they are
 * refused here (RFC 3501 strict: a date that does not exist is a client bug). The zone is any 4 digits the
 * grammar allows with minutes under 60.
 */

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** A moment and the zone it was written in (minutes east of UTC). */
export interface ImapDateTime {
  readonly ms: number;
  readonly tzMinutes: number;
}

/** A calendar day (month 1..12). */
export interface ImapDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

function monthOf(s: string): number {
  const lower = s.toLowerCase();
  return MONTHS.findIndex((m) => m.toLowerCase() === lower) + 1;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DATE = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/;
const DATE_TIME = /^( \d|\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

function validDay(year: number, month: number, day: number): boolean {
  return month >= 1 && year >= 1 && day >= 1 && day <= daysIn(year, month);
}

/** "d-Mon-yyyy" (one or two digits for the day) → ImapDate, or undefined. */
export function parseDate(text: string): ImapDate | undefined {
  const m = DATE.exec(text);
  if (m === null) return undefined;
  const day = Number(m[1]);
  const month = monthOf(m[2]!);
  const year = Number(m[3]);
  return validDay(year, month, day) ? { year, month, day } : undefined;
}

export function formatDate(date: ImapDate): string {
  return `${date.day}-${MONTHS[date.month - 1]}-${String(date.year).padStart(4, '0')}`;
}

/** "dd-Mon-yyyy hh:mm:ss +zzzz" (the day may be " d") → ImapDateTime, or undefined. */
export function parseDateTime(text: string): ImapDateTime | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const day = Number(m[1]!.trim());
  const month = monthOf(m[2]!);
  const year = Number(m[3]);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  const zoneMinutes = Number(m[9]);
  if (!validDay(year, month, day) || hour > 23 || minute > 59 || second > 60 || zoneMinutes > 59) return undefined;
  const tzMinutes = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + zoneMinutes);
  // Date.UTC maps years 0..99 to 1900..1999: set the full year explicitly.
  const wall = new Date(Date.UTC(2000, month - 1, day, hour, minute, Math.min(second, 59)));
  wall.setUTCFullYear(year);
  return { ms: wall.getTime() - tzMinutes * 60_000, tzMinutes };
}

export function formatDateTime(value: ImapDateTime): string {
  const wall = new Date(value.ms + value.tzMinutes * 60_000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const sign = value.tzMinutes < 0 ? '-' : '+';
  const zone = Math.abs(value.tzMinutes);
  return (
    `${two(wall.getUTCDate())}-${MONTHS[wall.getUTCMonth()]}-${String(wall.getUTCFullYear()).padStart(4, '0')} ` +
    `${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}:${two(wall.getUTCSeconds())} ` +
    `${sign}${two(Math.floor(zone / 60))}${two(zone % 60)}`
  );
}
