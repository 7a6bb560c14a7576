/**
 * The signals of a long-running command (`mailgate manager`, `mailgate start`), as systemd sends them:
 * SIGHUP reloads, SIGTERM (or Ctrl-C's SIGINT) stops cleanly. A second SIGTERM/SIGINT while stopping
 * exits at once: whoever sends it twice does not want to wait for the drain.
 */
import type { Logger } from '../mail/logger.js';

export interface SignalHandlers {
  readonly logger: Logger;
  readonly reload: () => void;
  /** Stops everything; resolves when done. Called once. */
  readonly stop: (signal: string) => Promise<void>;
}

/**
 * Installs the handlers and returns at once; the promise it gives resolves when stop() has finished
 * (the SIGHUP handler is removed by then).
 */
export function handleSignals(handlers: SignalHandlers): Promise<void> {
  const { logger, reload } = handlers;
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second stop signal: exiting without waiting for the drain');
        process.exit(1);
      }
      stopping = true;
      void handlers
        .stop(signal)
        .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'error while stopping'))
        .then(() => {
          process.off('SIGHUP', reload);
          process.off('SIGTERM', onStop);
          process.off('SIGINT', onStop);
          resolve();
        });
    };
    process.on('SIGHUP', reload);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
}
