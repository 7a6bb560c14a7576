/**
 * milter-manager's stress threshold behind Postfix: 3/4 of the smtp service's process limit
 * (master.cf maxproc, or default_process_limit when it is "-"). 0 (never stressed) without Postfix.
 *
 * postconf is run asynchronously, in the background, and its answer cached: on a host where Postfix
 * is installed but main.cf is missing each call takes Postfix's 1 s fatal-error sleep, and a
 * synchronous call froze every session for ~2 s at each start and reload.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../mail/logger.js';

function postconf(args: string[], signal?: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('postconf', args, { encoding: 'utf8', timeout: 5000, ...(signal ? { signal } : {}) }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim());
    });
  });
}

export async function postfixStressThreshold(signal?: AbortSignal): Promise<number> {
  const service = await postconf(['-M', 'smtp/inet'], signal);
  const maxproc = service?.split(/\s+/)[6];
  let limit = maxproc !== undefined && /^\d+$/.test(maxproc) ? Number(maxproc) : undefined;
  if (limit === undefined) {
    if (signal?.aborted) return 0;
    const def = await postconf(['-h', 'default_process_limit'], signal);
    limit = def !== undefined && /^\d+$/.test(def) ? Number(def) : undefined;
  }
  return limit === undefined ? 0 : Math.floor((limit * 3) / 4);
}

/**
 * The threshold as last learnt from Postfix: 0 (never stressed) until the first answer. refresh()
 * starts a lookup unless one is running and returns at once; nothing waits for postconf.
 */
export class PostfixStress {
  private value = 0;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly logger: Logger) {}

  get threshold(): number {
    return this.value;
  }

  refresh(): void {
    if (this.abort.signal.aborted) return;
    this.running ??= postfixStressThreshold(this.abort.signal)
      .then((threshold) => {
        if (this.abort.signal.aborted) return;
        if (threshold !== this.value) this.logger.info({ threshold }, 'stress threshold from Postfix (3/4 of the smtpd process limit)');
        this.value = threshold;
      })
      // execFile throws synchronously when the spawn itself fails (ENOMEM, E2BIG...): without this the
      // rejection would pass through finally() and Node's default would end the manager.
      .catch((err: unknown) => {
        this.logger.warn({ err: (err as Error).message }, 'cannot run postconf for the smtpd process limit; stress threshold unchanged');
      })
      .finally(() => (this.running = undefined));
  }

  /** Kills a lookup in flight (shutdown need not wait for postconf); no lookup starts after. */
  stop(): Promise<void> {
    this.abort.abort();
    return this.running ?? Promise.resolve();
  }
}
