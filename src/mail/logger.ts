/**
 * The logging surface every layer takes (pino's), JSON lines on stderr by default and one readable
 * line per record with --verbose. In mail/ because every layer logs and mail/ is what they all share.
 */
import { pino, type Logger as PinoLogger } from 'pino';

/** The logging surface every part uses: pino's, so a pino logger can be passed in as it is. */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const BASE_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** An object whose values are all strings, numbers, booleans or lists of strings (one message's entry). */
function isFlatRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every(
    (x) => ['string', 'number', 'boolean'].includes(typeof x) || (Array.isArray(x) && x.every((y) => typeof y === 'string')),
  );
}

/**
 * A field's value as written in the human format: a list of strings (recipients) comma-separated; a
 * list of flat objects (the messages of a session) as `[k=v k=v; k=v k=v]`; anything else as JSON.
 */
function humanValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',');
  if (Array.isArray(v) && v.length > 0 && v.every(isFlatRecord)) {
    return `[${v.map((o) => Object.entries(o).map(([k, x]) => `${k}=${humanValue(x)}`).join(' ')).join('; ')}]`;
  }
  return JSON.stringify(v);
}

/**
 * A pino JSON record as one readable line: ISO time, level name, message, then `key=value` fields
 * (e.g. `2026-12-03T07:29:53.024Z INFO session finished status=continue messages=[queueId=4XyZ1Q2w3 from=<a@example.com> ...]`).
 */
export function humanLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = new Date(Number(rec['time'])).toISOString();
  const extra = Object.entries(rec)
    .filter(([k]) => !BASE_KEYS.has(k))
    .map(([k, v]) => `${k}=${humanValue(v)}`)
    .join(' ');
  const level = LEVELS[Number(rec['level'])] ?? String(rec['level']);
  return `${time} ${level} ${String(rec['msg'] ?? '')}${extra ? ' ' + extra : ''}\n`;
}

/** For a person at a terminal (`--verbose`, `--log-format human`); JSON stays the default. */
const humanDestination = {
  write(line: string): void {
    process.stderr.write(humanLine(line));
  },
};

/** JSON lines on stderr (stdout belongs to the tools' own output); `human` for a readable format. */
export function createLogger(options: { level?: string; name?: string; human?: boolean } = {}): Logger {
  const opts = { level: options.level ?? 'info', name: options.name ?? 'mailgate' };
  return options.human ? pino(opts, humanDestination) : pino(opts, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
