// Postfix's smtp-source as the load generator: N parallel SMTP (or LMTP) sessions sending M generated
// messages of a given size to host:port. Run to completion (runSmtpSource) or in the background
// (startSmtpSource: e.g. to SIGKILL the server mid-run and read how many messages got their 250).
//
// Flags (smtp-source(1)): -s sessions, -m messages (in total), -l payload bytes (headers not
// counted), -r recipients per message, -f/-t sender and recipient, -M HELO name and the default
// addresses' domain, -S subject, -d several messages per connection (default: one connection per
// message), -N a sequence number prepended to each recipient's local part (1rcpt@..., 2rcpt@...), -L
// LMTP, -A go on after a non-2xx reply (default: give up at the first), -c a counter on stdout
// ("N\r") incremented as each DATA completes, which completed() reads. Each message carries
// `Message-Id: <PID.SESSION.MESSAGE@HELO>`, unique within a run.
import { startDaemon, type Daemon } from './process.js';

export const SMTP_SOURCE = '/usr/sbin/smtp-source';

export interface SmtpSourceOptions {
  host?: string;
  port: number;
  /** Parallel sessions (-s; default 1). */
  sessions?: number;
  /** Messages in total (-m; default 1). */
  messages?: number;
  /** Payload bytes per message, headers excluded (-l). */
  size?: number;
  /** Recipients per message (-r; default 1). */
  recipients?: number;
  /** Envelope sender (-f); smtp-source's default is foo@HELO. */
  from?: string;
  /** Envelope recipient (-t). */
  to?: string;
  /** HELO name (-M); default "smtp-source.example". */
  helo?: string;
  subject?: string;
  /** Several messages per connection (-d). */
  reuseConnection?: boolean;
  /** Number the recipients (-N): 1user@..., 2user@... */
  numberRecipients?: boolean;
  lmtp?: boolean;
  /** Keep going after a non-2xx reply (-A). */
  ignoreErrors?: boolean;
  /** Further smtp-source options, placed before the address. */
  args?: readonly string[];
}

export interface SmtpSourceResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** DATA transactions completed (the -c counter at exit). */
  completed: number;
  elapsedMs: number;
  output: string;
}

export interface SmtpSourceRun {
  readonly daemon: Daemon;
  /** DATA transactions completed so far. */
  completed(): number;
  readonly done: Promise<SmtpSourceResult>;
  /** Stops it early (SIGTERM, then SIGKILL). */
  stop(): Promise<SmtpSourceResult>;
}

/** smtp-source's argument vector for `opts`. */
export function sourceArgs(opts: SmtpSourceOptions): string[] {
  const args = ['-c', '-M', opts.helo ?? 'smtp-source.example'];
  const num = (flag: string, v: number | undefined): void => {
    if (v !== undefined) args.push(flag, String(v));
  };
  num('-s', opts.sessions);
  num('-m', opts.messages);
  num('-l', opts.size);
  num('-r', opts.recipients);
  if (opts.from !== undefined) args.push('-f', opts.from);
  if (opts.to !== undefined) args.push('-t', opts.to);
  if (opts.subject !== undefined) args.push('-S', opts.subject);
  if (opts.reuseConnection) args.push('-d');
  if (opts.numberRecipients) args.push('-N');
  if (opts.lmtp) args.push('-L');
  if (opts.ignoreErrors) args.push('-A');
  args.push(...(opts.args ?? []), `inet:${opts.host ?? '127.0.0.1'}:${opts.port}`);
  return args;
}

/** The last counter value in smtp-source -c output. */
export function sourceCount(stdout: string): number {
  const m = /(\d+)\s*$/.exec(stdout.replace(/\r/g, '\n'));
  return m ? Number(m[1]) : 0;
}

export function startSmtpSource(opts: SmtpSourceOptions): SmtpSourceRun {
  const started = performance.now();
  const daemon = startDaemon('smtp-source', SMTP_SOURCE, sourceArgs(opts));
  const completed = (): number => sourceCount(daemon.stdout());
  const done = daemon.exited.then((st) => ({ exitCode: st.code, signal: st.signal, completed: completed(), elapsedMs: performance.now() - started, output: daemon.output() }));
  return {
    daemon,
    completed,
    done,
    async stop() {
      await daemon.stop(2_000);
      return done;
    },
  };
}

/** Runs smtp-source to completion; a hang guard stops it after timeoutMs (the result then shows the signal). */
export async function runSmtpSource(opts: SmtpSourceOptions & { timeoutMs?: number }): Promise<SmtpSourceResult> {
  const run = startSmtpSource(opts);
  const guard = setTimeout(() => void run.stop(), opts.timeoutMs ?? 300_000);
  try {
    return await run.done;
  } finally {
    clearTimeout(guard);
  }
}
