// A plain SMTP client that remembers exactly which messages the server acknowledged with 250 after DATA:
// each message carries a unique Message-ID, and a crash test checks that every acknowledged one is
// delivered. It stops quietly when the server goes away (that is the point of the test).
import { connect, type Socket } from 'node:net';

export interface TrackedRun {
  /** Message-IDs (without <>) the server acknowledged at end of DATA. */
  readonly acknowledged: Set<string>;
  /** Message-IDs whose DATA was sent in full (acknowledged or not): the most that may be delivered. */
  readonly sent: Set<string>;
  /** Resolves when every session has ended. */
  readonly done: Promise<void>;
  stop(): void;
}

function replies(socket: Socket): () => Promise<string> {
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  const ready: string[] = [];
  let ended = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (;;) {
      // A reply ends with a line "NNN text" (a space, not a dash, after the code).
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(buffer);
      if (!m) break;
      buffer = buffer.slice(m[0].length);
      const w = waiting.shift();
      if (w) w(m[0]);
      else ready.push(m[0]);
    }
  });
  const finish = (): void => {
    ended = true;
    for (const w of waiting.splice(0)) w('');
  };
  socket.on('close', finish);
  socket.on('error', finish);
  return () => {
    const r = ready.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (ended) return Promise.resolve('');
    return new Promise((resolve) => waiting.push(resolve));
  };
}

/** Sends `count` messages over `sessions` parallel connections, one message after another on each. */
export function sendTracked(opts: { port: number; to: string; count: number; sessions: number; tag: string }): TrackedRun {
  const acknowledged = new Set<string>();
  const sent = new Set<string>();
  let next = 0;
  let stopped = false;
  const session = async (): Promise<void> => {
    while (!stopped && next < opts.count) {
      const socket = connect(opts.port, '127.0.0.1');
      const reply = replies(socket);
      const say = async (line: string): Promise<string> => {
        socket.write(line);
        return reply();
      };
      try {
        if (!(await reply()).startsWith('220')) return;
        if (!(await say('EHLO tracker.example\r\n')).startsWith('250')) return;
        while (!stopped && next < opts.count) {
          const id = `${opts.tag}.${next++}@tracker.example`;
          if (!(await say('MAIL FROM:<tracker@example.org>\r\n')).startsWith('250')) return;
          if (!(await say(`RCPT TO:<${opts.to}>\r\n`)).startsWith('250')) return;
          if (!(await say('DATA\r\n')).startsWith('354')) return;
          const body = `Message-ID: <${id}>\r\nSubject: tracked ${id}\r\n\r\n${'x'.repeat(70)}\r\n.\r\n`;
          socket.write(body);
          sent.add(id);
          const r = await reply();
          if (!r.startsWith('250')) return;
          acknowledged.add(id);
        }
        await say('QUIT\r\n');
      } finally {
        socket.destroy();
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.sessions }, () => session().catch(() => undefined))).then(() => undefined);
  return { acknowledged, sent, done, stop: () => (stopped = true) };
}
