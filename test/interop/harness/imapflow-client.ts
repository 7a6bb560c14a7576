// imapflow (Node, MIT; a devDependency) as the first of issue 11's real IMAP clients, run in-process:
// a connected, logged-in ImapFlow against any server on loopback (Mailgate's `mailgate start` or the private
// Dovecot), in plaintext (loopback allows it), over STARTTLS, or over implicit TLS; certificates are not
// checked (both servers' are self-signed). Its protocol log is kept, so an assertion that fails can show what
// was said; and helpers wait for an event (IDLE's `exists`) with a hang guard instead of a timed assertion.
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

export type ImapTransportMode = 'plain' | 'starttls' | 'tls';

export interface ImapflowOptions {
  port: number;
  user: string;
  password: string;
  mode?: ImapTransportMode;
  /** imapflow's auto-IDLE (15 s of quiet) stays off unless a test asks for it: IDLE is started explicitly. */
  autoIdle?: boolean;
  /** ENABLE QRESYNC after login (imapflow's `qresync` option): expunges come as VANISHED. */
  qresync?: boolean;
}

export interface ImapflowClient {
  readonly client: ImapFlow;
  /** The protocol conversation so far (imapflow's log entries, one line each), for failure messages. */
  transcript(): string;
  close(): Promise<void>;
}

export async function connectImapflow(opts: ImapflowOptions): Promise<ImapflowClient> {
  const mode = opts.mode ?? 'plain';
  const lines: string[] = [];
  const record = (level: string) => (entry: object): void => {
    const e = entry as { msg?: string; src?: string; data?: string; cid?: string };
    lines.push(`${level} ${e.src ?? ''} ${e.msg ?? ''}${e.data !== undefined ? ` ${JSON.stringify(e.data)}` : ''}`.slice(0, 400));
    if (lines.length > 2_000) lines.splice(0, lines.length - 2_000);
  };
  const options: ImapFlowOptions = {
    host: '127.0.0.1',
    port: opts.port,
    secure: mode === 'tls',
    doSTARTTLS: mode === 'starttls' ? true : mode === 'plain' ? false : undefined,
    auth: { user: opts.user, pass: opts.password },
    tls: { rejectUnauthorized: false },
    logger: { debug: record('D'), info: record('I'), warn: record('W'), error: record('E') },
    disableAutoIdle: opts.autoIdle !== true,
    qresync: opts.qresync === true,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  };
  const client = new ImapFlow(options);
  // An 'error' event without a listener would crash the test worker.
  client.on('error', (err: Error) => lines.push(`E error ${err.message}`));
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`imapflow (${mode}) as ${opts.user} on port ${opts.port}: ${(err as Error).message}\n--- imapflow log ---\n${lines.join('\n')}`);
  }
  return {
    client,
    transcript: () => lines.join('\n'),
    async close() {
      if (client.usable) {
        try {
          await client.logout();
          return;
        } catch {
          /* fall through */
        }
      }
      client.close();
    },
  };
}

/** Resolves with the first `event` that `accept` takes, rejects after timeoutMs (a hang guard) with the log. */
export function nextEvent<T>(c: ImapflowClient, event: 'exists' | 'expunge' | 'flags', accept: (e: T) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const onEvent = (e: T): void => {
      if (!accept(e)) return;
      clearTimeout(timer);
      c.client.off(event, onEvent);
      resolve(e);
    };
    const timer = setTimeout(() => {
      c.client.off(event, onEvent);
      reject(new Error(`no imapflow '${event}' event within ${timeoutMs} ms\n--- imapflow log ---\n${c.transcript()}`));
    }, timeoutMs);
    c.client.on(event, onEvent);
  });
}

export interface ServerMessage {
  uid: number;
  /** Stored flags, sorted; never \Recent (session state). */
  flags: string[];
  source: Buffer;
}

/** Every message of `path` as the server holds it, in UID order (opened read-only: EXAMINE changes nothing). */
export async function mailboxSnapshot(c: ImapflowClient, path: string): Promise<ServerMessage[]> {
  const box = await c.client.mailboxOpen(path, { readOnly: true });
  if (box.exists === 0) return [];
  const msgs = await c.client.fetchAll('1:*', { uid: true, flags: true, source: true });
  return msgs
    .map((m) => ({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), source: m.source ?? Buffer.alloc(0) }))
    .sort((a, b) => a.uid - b.uid);
}
