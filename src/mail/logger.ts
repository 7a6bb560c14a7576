import { pino, type Logger as PinoLogger } from 'pino';

/** The logging surface every part uses: pino's, so a pino logger can be passed in as it is. */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

/** JSON lines on stderr (stdout belongs to the tools' own output). */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? 'info', name: options.name ?? 'mailgate' }, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
