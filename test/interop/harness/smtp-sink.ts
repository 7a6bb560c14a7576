// Postfix's smtp-sink as the next hop (a remote MX, a relay_host, an LMTP server): by default it
// accepts everything and dumps each mail transaction to its own file so tests can read what was
// delivered; options make it a fast counter for load (no files), or a bad peer (4xx/5xx to chosen
// commands, 421 or a silent disconnect after them, a slow DATA).
//
// Flags (smtp-sink(1)): `-u postfix` is mandatory when running as root (it drops privileges after
// binding); `-d TEMPLATE` writes one file per transaction named strftime(TEMPLATE) + a random hex
// suffix; `-c` prints running counters ("sess=N quit=N mesg=N", CR-separated) on stdout, which
// count() reads; the trailing number is the listen backlog. A dump holds smtp-sink's own
// X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args, X-Rcpt-Args records and a Received
// field, then the message as received, then an empty line.
import { readdir, readFile, chown, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { freePort } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { tcpListening } from './endpoint.js';
import { postfixIds } from './postfix-user.js';

export const SMTP_SINK = '/usr/sbin/smtp-sink';

/** Command names as smtp-sink's -r/-f/-q/-Q options take them (CONNECT: as the client connects). */
export type SinkCommand = 'CONNECT' | 'HELO' | 'EHLO' | 'LHLO' | 'MAIL' | 'RCPT' | 'DATA' | '.' | 'RSET' | 'NOOP' | 'VRFY' | 'QUIT';

export interface SmtpSinkOptions {
  /** Dump each transaction to a file (the default); false: only count (-c), as a load benchmark needs. */
  save?: boolean;
  /** Answer these commands with a soft error (-r; implies no PIPELINING). */
  softReject?: readonly SinkCommand[];
  /** The soft error (-b); smtp-sink's default: "450 4.3.0 Error: command failed". */
  softReply?: string;
  /** Answer these commands with a hard error (-f; implies no PIPELINING). */
  hardReject?: readonly SinkCommand[];
  /** The hard error (-B); smtp-sink's default: "500 5.3.0 Error: command failed". */
  hardReply?: string;
  /** Send "421" and disconnect after these commands (-Q). */
  closeAfter?: readonly SinkCommand[];
  /** Disconnect without a reply after these commands (-q). */
  dropAfter?: readonly SinkCommand[];
  /** Seconds to wait before answering DATA (-w). */
  dataDelay?: number;
  /** Speak LMTP (-L). */
  lmtp?: boolean;
  /** Greeting/EHLO hostname (-h); smtp-sink's default: "smtp-sink". */
  hostname?: string;
  /** Listen backlog (default 100; a load benchmark wants more). */
  backlog?: number;
  /** Further smtp-sink options, placed before the address. */
  args?: readonly string[];
  /** Listen on this 127.0.0.1 port (a peer that comes up where a client already points); default a free one. */
  port?: number;
}

export interface SmtpSink {
  readonly port: number;
  readonly daemon: Daemon;
  /** Where transactions are dumped (undefined when save is false). */
  readonly dumpDir: string | undefined;
  /** Dumped transactions so far (oldest first); always [] when save is false. */
  messages(): Promise<string[]>;
  /** Waits until at least `count` complete dumps exist. */
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
  /** Messages received so far (smtp-sink's own counter: every "." it got, whatever it answered). */
  count(): number;
  /** Waits until count() >= n; returns count(). */
  waitForCount(n: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** smtp-sink's arguments for `opts` (without -u, -d and the address). */
export function sinkArgs(opts: SmtpSinkOptions): string[] {
  const args = ['-c'];
  const list = (flag: string, cmds: readonly SinkCommand[] | undefined): void => {
    if (cmds && cmds.length > 0) args.push(flag, cmds.join(','));
  };
  list('-r', opts.softReject);
  if (opts.softReply !== undefined) args.push('-b', opts.softReply);
  list('-f', opts.hardReject);
  if (opts.hardReply !== undefined) args.push('-B', opts.hardReply);
  list('-Q', opts.closeAfter);
  list('-q', opts.dropAfter);
  if (opts.dataDelay !== undefined) args.push('-w', String(opts.dataDelay));
  if (opts.lmtp) args.push('-L');
  if (opts.hostname !== undefined) args.push('-h', opts.hostname);
  args.push(...(opts.args ?? []));
  return args;
}

/** The last "mesg=N" of smtp-sink -c output, 0 before the first. */
export function sinkCount(stdout: string): number {
  const at = stdout.lastIndexOf('mesg=');
  return at < 0 ? 0 : Number(/^mesg=(\d+)/.exec(stdout.slice(at))?.[1] ?? 0);
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  // -u and the chown below need root; so do Postfix's private instances.
  if (process.getuid?.() !== 0) throw new Error('smtp-sink and Postfix interop peers must run as root');
  const tmp = await makeTempDir('sink');
  const save = opts.save ?? true;
  const dumpDir = save ? await tmp.sub('dump') : undefined;
  const { uid, gid } = postfixIds();
  if (dumpDir !== undefined) await chown(dumpDir, uid, gid); // smtp-sink writes as `postfix`
  const port = opts.port ?? (await freePort());
  const args = ['-u', 'postfix', ...sinkArgs(opts), ...(dumpDir === undefined ? [] : ['-d', join(dumpDir, 'msg.')])];
  const daemon = startDaemon('smtp-sink', SMTP_SINK, [...args, `127.0.0.1:${port}`, String(opts.backlog ?? 100)]);
  try {
    await waitFor('smtp-sink', async () => ((await tcpListening(port)) ? true : undefined), { daemon, timeoutMs: 10_000 });
  } catch (err) {
    await daemon.stop();
    await tmp.remove();
    throw err;
  }

  const read = async (): Promise<string[]> => {
    if (dumpDir === undefined) return [];
    const names = (await readdir(dumpDir)).filter((n) => n.startsWith('msg.'));
    const files = await Promise.all(
      names.map(async (n) => {
        const path = join(dumpDir, n);
        return { mtime: (await stat(path)).mtimeMs, text: await readFile(path, 'latin1') };
      }),
    );
    return files.sort((a, b) => a.mtime - b.mtime).map((f) => f.text);
  };
  const count = (): number => sinkCount(daemon.stdout());
  return {
    port,
    daemon,
    dumpDir,
    messages: read,
    waitForMessages: (n, timeoutMs = 20_000) => {
      if (dumpDir === undefined) return Promise.reject(new Error('waitForMessages: this smtp-sink does not save messages (save: false)'));
      return waitFor(
        `${n} message(s) in smtp-sink`,
        async () => {
          // The file is created at MAIL FROM and filled as data arrives; a
          // finished dump ends with the empty line smtp-sink appends.
          const done = (await read()).filter((m) => m.endsWith('\n\n'));
          return done.length >= n ? done : undefined;
        },
        { daemon, timeoutMs },
      );
    },
    count,
    waitForCount: (n, timeoutMs = 20_000) =>
      waitFor(`${n} message(s) counted by smtp-sink`, () => (count() >= n ? count() : undefined), { daemon, timeoutMs, intervalMs: 10 }),
    async stop() {
      await daemon.stop();
      await tmp.remove();
    },
  };
}
