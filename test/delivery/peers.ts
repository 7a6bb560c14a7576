// The delivery tests' peers: Postfix's smtp-sink with any flags on any loopback address (the harness's
// startSmtpSink has fixed flags), and a scriptable SMTP/LMTP server on the smtp-server package for what
// smtp-sink cannot do (a reply per recipient, TLS, SIZE, counting connections).
import { chown, readdir, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession, type SMTPServerAddress } from 'smtp-server';
import { freePort } from '../interop/harness/ports.js';
import { postfixIds } from '../interop/harness/postfix-user.js';
import { startDaemon, waitFor, type Daemon } from '../interop/harness/process.js';
import { makeTempDir } from '../interop/harness/tmpdir.js';

export interface Sink {
  readonly host: string;
  readonly port: number;
  readonly daemon: Daemon;
  /** Finished dumps (smtp-sink -d), oldest first. */
  messages(): Promise<string[]>;
  waitForMessages(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** smtp-sink on host:port (port: a free one) with extra flags, e.g. ['-L'] (LMTP), ['-Q', 'connect']. */
export async function startSink(flags: readonly string[] = [], host = '127.0.0.1', fixedPort?: number): Promise<Sink> {
  if (process.getuid?.() !== 0) throw new Error('smtp-sink must run as root (it drops to the postfix user)');
  const tmp = await makeTempDir('dsink');
  const dumpDir = await tmp.sub('dump');
  const { uid, gid } = postfixIds();
  await chown(dumpDir, uid, gid);
  const port = fixedPort ?? (await freePort());
  const daemon = startDaemon('smtp-sink', '/usr/sbin/smtp-sink', ['-u', 'postfix', ...flags, '-d', join(dumpDir, 'msg.'), `${host}:${port}`, '100']);
  try {
    await waitFor('smtp-sink', async () => ((await listening(host, port)) ? true : undefined), { daemon, timeoutMs: 10_000 });
  } catch (err) {
    await daemon.stop();
    await tmp.remove();
    throw err;
  }
  const read = async (): Promise<string[]> => {
    const names = (await readdir(dumpDir)).filter((n) => n.startsWith('msg.'));
    const files = await Promise.all(
      names.map(async (n) => ({ mtime: (await stat(join(dumpDir, n))).mtimeMs, text: await readFile(join(dumpDir, n), 'latin1') })),
    );
    return files
      .sort((a, b) => a.mtime - b.mtime)
      .map((f) => f.text)
      .filter((m) => m.endsWith('\n\n'));
  };
  return {
    host,
    port,
    daemon,
    messages: read,
    waitForMessages: (count) =>
      waitFor(`${count} message(s) in smtp-sink`, async () => {
        const done = await read();
        return done.length >= count ? done : undefined;
      }, { daemon, timeoutMs: 20_000 }),
    async stop() {
      await daemon.stop();
      await tmp.remove();
    },
  };
}

export interface Received {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: string;
  readonly secure: boolean;
  /** The MAIL FROM and RCPT TO parameters as smtp-server parsed them. */
  readonly mailArgs: unknown;
  readonly rcptArgs: readonly unknown[];
}

export interface TestServer {
  readonly port: number;
  readonly received: Received[];
  /** Connections accepted so far. */
  connections: number;
  /** Most sessions open at once. */
  maxConcurrent: number;
  /** Sessions open now. */
  readonly open: number;
  close(): Promise<void>;
}

export interface TestServerBehaviour {
  /** An error for MAIL FROM; `transaction` counts from 1 in each session. */
  mail?: (transaction: number) => { code: number; message: string } | undefined;
  /** An error for RCPT TO (undefined: accept). */
  rcpt?: (address: string) => { code: number; message: string } | undefined;
  /** LMTP: the reply per recipient at end of data (string: 250 with that text). */
  lmtpReplies?: (to: readonly string[]) => (string | { code: number; message: string })[];
  /** Waits this long before answering end of data. */
  dataDelayMs?: number;
}

const smtpError = (e: { code: number; message: string }): Error => Object.assign(new Error(e.message), { responseCode: e.code });

/** An smtp-server on 127.0.0.1 (or a unix path) that records what it gets. */
export async function startTestServer(
  behaviour: TestServerBehaviour = {},
  options: Partial<SMTPServerOptions> = {},
  path?: string,
): Promise<TestServer> {
  let open = 0;
  const state: TestServer = {
    port: 0,
    received: [],
    connections: 0,
    maxConcurrent: 0,
    get open() {
      return open;
    },
    close: async () => undefined,
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    ...(options.secure || options.key ? {} : { hideSTARTTLS: true }),
    ...options,
    onConnect(_session, cb) {
      state.connections++;
      open++;
      state.maxConcurrent = Math.max(state.maxConcurrent, open);
      cb();
    },
    onClose() {
      open--;
    },
    onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const e = behaviour.mail?.(session.transaction);
      cb(e === undefined ? undefined : smtpError(e));
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, cb: (err?: Error | null) => void) {
      const e = behaviour.rcpt?.(address.address);
      cb(e === undefined ? undefined : smtpError(e));
    },
    onData(stream: Readable, session: SMTPServerSession, cb: (err?: Error | null, message?: unknown) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        state.received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to,
          data: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          mailArgs: session.envelope.mailFrom === false ? undefined : session.envelope.mailFrom.args,
          rcptArgs: session.envelope.rcptTo.map((r) => r.args),
        });
        const reply = (): void => {
          if (behaviour.lmtpReplies !== undefined) {
            cb(null, behaviour.lmtpReplies(to).map((r) => (typeof r === 'string' ? r : smtpError(r))));
          } else cb(null, 'Ok: queued as TEST');
        };
        if (behaviour.dataDelayMs !== undefined) setTimeout(reply, behaviour.dataDelayMs);
        else reply();
      });
    },
  } as SMTPServerOptions);
  server.on('error', () => undefined);
  const port = path === undefined ? await freePort() : 0;
  await new Promise<void>((resolve) => (path === undefined ? server.listen(port, '127.0.0.1', resolve) : server.listen(path, resolve)));
  (state as { port: number }).port = port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
