/**
 * milter-greylist's time and size values: `-?N[smhdw]` (bare number = seconds, lowercase units)
 * and `N[kM]`. The real program sends both through one converter, so `greylist 10M` means
 * 10,485,760 seconds there; here a size unit on a time is refused instead of silently meaning that.
 */
const TIME_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const SIZE_UNITS: Readonly<Record<string, number>> = { k: 1024, M: 1024 * 1024 };

/** Seconds, or undefined when `text` is not a time. Several parts add up ("1h30m"). */
export function parseSeconds(text: string): number | undefined {
  // A sticky loop, not one regular expression: /(\d+[smhdw]?)+$/ backtracks exponentially on "111…1x".
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  if (body === '') return undefined;
  const part = /(\d+)([smhdw]?)/y;
  let total = 0;
  let at = 0;
  while (at < body.length) {
    part.lastIndex = at;
    const m = part.exec(body);
    if (m === null) return undefined;
    total += Number(m[1]) * (TIME_UNITS[m[2] || 's'] as number);
    at = part.lastIndex;
  }
  if (!Number.isSafeInteger(total)) return undefined;
  return negative ? -total : total;
}

/** Bytes, or undefined when `text` is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([kM]?)$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]) * (m[2] ? (SIZE_UNITS[m[2]] as number) : 1);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The shortest exact spelling of `seconds` ("10m", "1w", "90s"), for the printer and logs. */
export function formatSeconds(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (abs !== 0 && abs % size === 0) return `${sign}${abs / size}${unit}`;
  }
  return `${sign}${abs}s`;
}

/** HH:MM:SS as milter-greylist prints delays (hours are not wrapped at 24). */
export function hms(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}
