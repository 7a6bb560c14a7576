/**
 * The logging surface every layer takes (pino's), JSON lines on stderr by default and one readable
 * line per record with --verbose. In mail/ because every layer logs and mail/ is what they all share.
 */
import { pino, type Logger as PinoLogger } from 'pino';

/** The logging surface every part uses: pino's, so a pino logger can be passed in as it is. */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const BASE_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** One readable line per record for a person at a terminal (`--verbose`); JSON stays the default. */
const humanDestination = {
  write(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      process.stderr.write(line);
      return;
    }
    const time = new Date(Number(rec['time'])).toISOString().slice(11, 23);
    const extra = Object.entries(rec)
      .filter(([k]) => !BASE_KEYS.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    process.stderr.write(`${time} ${LEVELS[Number(rec['level'])] ?? rec['level']} ${String(rec['msg'] ?? '')}${extra ? ' ' + extra : ''}\n`);
  },
};

/** JSON lines on stderr (stdout belongs to the tools' own output); `human` for a readable format. */
export function createLogger(options: { level?: string; name?: string; human?: boolean } = {}): Logger {
  const opts = { level: options.level ?? 'info', name: options.name ?? 'mailgate' };
  return options.human ? pino(opts, humanDestination) : pino(opts, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
