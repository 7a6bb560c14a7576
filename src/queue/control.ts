/**
 * The running scheduler's control socket, <data_dir>/queue/control/qmgr.sock (Postfix's qmgr FIFO in
 * spirit): `mailgate queue flush|hold|release|delete` changes the files itself, then sends one line
 * ("flush", "hold ID", "release ID", "delete ID") so that a running scheduler acts on it at once. No
 * scheduler listening (ENOENT, ECONNREFUSED) is not an error: the files are the truth and the next start
 * reads them. The socket sits in a 0700 directory, so only the queue's owner reaches it.
 */
import { connect, createServer, type Server } from 'node:net';
import { unlink } from 'node:fs/promises';

export type ControlCommand = { op: 'flush' } | { op: 'hold' | 'release' | 'delete'; id: string };

export function parseControlLine(line: string): ControlCommand | undefined {
  const m = /^(flush)$|^(hold|release|delete) ([0-9A-Z]{10,})$/.exec(line.trim());
  if (m === null) return undefined;
  if (m[1] !== undefined) return { op: 'flush' };
  return { op: m[2] as 'hold' | 'release' | 'delete', id: m[3]! };
}

export function formatControlLine(c: ControlCommand): string {
  return c.op === 'flush' ? 'flush\n' : `${c.op} ${c.id}\n`;
}

/** Sends a command; true when a scheduler took it, false when none is running. */
export function sendControl(socket: string, c: ControlCommand, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let answer = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from the queue manager on ${socket}`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(formatControlLine(c)));
    s.on('data', (d: string) => {
      answer += d;
      if (answer.includes('\n')) s.end();
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(answer.startsWith('ok'));
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(false);
      else reject(err);
    });
  });
}

/**
 * Listens on the socket. A socket a live scheduler answers on means another process runs this queue:
 * refused (two schedulers would deliver everything twice). A stale socket file is replaced.
 */
export async function listenControl(socket: string, handle: (c: ControlCommand) => void): Promise<Server> {
  if (await probe(socket)) throw new Error(`another mailgate process is running this queue (${socket} answers)`);
  await unlink(socket).catch(() => undefined);
  const server = createServer((conn) => {
    conn.setEncoding('utf8');
    let buf = '';
    conn.on('data', (d: string) => {
      buf += d;
      if (buf.length > 1024) return void conn.destroy();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const c = parseControlLine(line);
        if (c === undefined) {
          conn.write('error unknown command\n');
          continue;
        }
        handle(c);
        conn.write('ok\n');
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return server;
}

function probe(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socket);
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
