// Postfix's smtp-sink as the next hop: accepts everything and dumps each mail
// transaction to its own file so tests can read what Postfix delivered.
//
// Flags (smtp-sink(1)): `-u postfix` is mandatory when running as root (it
// drops privileges after binding); `-d TEMPLATE` writes one file per
// transaction named strftime(TEMPLATE) + a random hex suffix; the trailing
// `100` is the listen backlog. A dump holds smtp-sink's own X-Client-Addr,
// X-Helo-Args, X-Mail-Args, X-Rcpt-Args records, then the message as received.
import { readdir, readFile, chown, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { freePort } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { tcpListening } from './endpoint.js';
import { postfixIds } from './postfix-user.js';

export interface SmtpSink {
  readonly port: number;
  readonly daemon: Daemon;
  /** Dumped transactions so far (oldest first). */
  messages(): Promise<string[]>;
  /** Waits until at least `count` complete dumps exist. */
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  // -u and the chown below need root; so do Postfix's private instances.
  if (process.getuid?.() !== 0) throw new Error('smtp-sink and Postfix interop peers must run as root');
  const tmp = await makeTempDir('sink');
  const dumpDir = await tmp.sub('dump');
  const { uid, gid } = postfixIds();
  await chown(dumpDir, uid, gid); // smtp-sink writes as `postfix`
  const port = await freePort();
  const daemon = startDaemon('smtp-sink', '/usr/sbin/smtp-sink', ['-u', 'postfix', '-d', join(dumpDir, 'msg.'), `127.0.0.1:${port}`, '100']);
  try {
    await waitFor('smtp-sink', async () => ((await tcpListening(port)) ? true : undefined), { daemon, timeoutMs: 10_000 });
  } catch (err) {
    await daemon.stop();
    await tmp.remove();
    throw err;
  }

  const read = async (): Promise<string[]> => {
    const names = (await readdir(dumpDir)).filter((n) => n.startsWith('msg.'));
    const files = await Promise.all(
      names.map(async (n) => {
        const path = join(dumpDir, n);
        return { mtime: (await stat(path)).mtimeMs, text: await readFile(path, 'latin1') };
      }),
    );
    return files.sort((a, b) => a.mtime - b.mtime).map((f) => f.text);
  };
  return {
    port,
    daemon,
    messages: read,
    waitForMessages: (count, timeoutMs = 20_000) =>
      waitFor(
        `${count} message(s) in smtp-sink`,
        async () => {
          // The file is created at MAIL FROM and filled as data arrives; a
          // finished dump ends with the empty line smtp-sink appends.
          const done = (await read()).filter((m) => m.endsWith('\n\n'));
          return done.length >= count ? done : undefined;
        },
        { daemon, timeoutMs },
      ),
    async stop() {
      await daemon.stop();
      await tmp.remove();
    },
  };
}
