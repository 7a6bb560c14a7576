/**
 * Mailgate itself never writes with console.*; a library that does (mailauth 4 prints
 * "TOTAL n EXPECTING m" for a DKIM l= mismatch, which a sender controls) would put unstructured
 * lines on the daemon's stdout. A long-running command sends them to its logger at debug instead.
 */
import { format } from 'node:util';
import type { Logger } from '../mail/logger.js';

export function captureStrayConsole(logger: Logger): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  const toLog = (...args: unknown[]): void => logger.debug({ text: format(...args) }, 'console output from a library');
  console.log = toLog;
  console.info = toLog;
  console.debug = toLog;
  return () => Object.assign(console, saved);
}
