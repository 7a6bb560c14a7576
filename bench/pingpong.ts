/**
 * The raw reference: a hand-written length-prefixed request/reply protocol over a unix socket, no
 * milter code. A request is [u32 BE length of the rest][u16 BE size of the wanted reply][padding];
 * the server answers each with a frame of exactly that many bytes ([u32 BE length][zeros]); a wanted
 * size of 0 means no reply (used for the closing packet, like milter's QUIT).
 */
import { connect, createServer, type Server } from 'node:net';
import type { SessionShape } from './workload.js';

const REQUEST_HEADER = 6;
const REPLY_HEADER = 4;

export function listenPingPong(path: string): Promise<Server> {
  const replies = new Map<number, Buffer>();
  const replyOf = (total: number): Buffer => {
    let b = replies.get(total);
    if (b === undefined) {
      b = Buffer.alloc(Math.max(total, REPLY_HEADER));
      b.writeUInt32BE(b.length - REPLY_HEADER, 0);
      replies.set(total, b);
    }
    return b;
  };
  const server = createServer((socket) => {
    let rest: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      const data = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
      let off = 0;
      while (data.length - off >= REQUEST_HEADER) {
        const len = data.readUInt32BE(off);
        if (data.length - off < REPLY_HEADER + len) break;
        const want = data.readUInt16BE(off + REPLY_HEADER);
        if (want > 0) socket.write(replyOf(want));
        off += REPLY_HEADER + len;
      }
      rest = off < data.length ? data.subarray(off) : undefined;
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Calls `onFrame` with each whole frame ([u32 BE length][rest]) of a byte stream, in order. Frames
 * are views of the chunk (or of the carried-over bytes joined with it), valid during the call only.
 */
function frames(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let rest: Buffer | undefined;
  return (chunk) => {
    const data = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    let off = 0;
    while (data.length - off >= REPLY_HEADER) {
      const end = off + REPLY_HEADER + data.readUInt32BE(off);
      if (data.length < end) break;
      onFrame(data.subarray(off, end));
      off = end;
    }
    rest = off < data.length ? data.subarray(off) : undefined;
  };
}

/**
 * The raw relay: the floor under what a milter manager costs, with no milter code. Per connection it
 * connects to every child (raw ping-pong servers), forwards each request to all of them at once and
 * answers when every child has answered, with the last answer; a request wanting no reply (the closing
 * packet) is forwarded and ends the children's connections. The same process and socket hops as the
 * manager, with nothing but framing in between.
 */
export function listenRelay(path: string, children: readonly string[]): Promise<Server> {
  const server = createServer((mta) => {
    const sockets = children.map((c) => connect(c));
    let waiting = 0;
    for (const s of sockets) {
      s.on(
        'data',
        frames((reply) => {
          if (--waiting === 0) mta.write(reply);
        }),
      );
      s.on('error', () => mta.destroy());
    }
    mta.on(
      'data',
      frames((req) => {
        const want = req.readUInt16BE(REPLY_HEADER);
        if (want === 0) {
          for (const s of sockets) s.end(req);
          return;
        }
        waiting = sockets.length;
        for (const s of sockets) s.write(req);
      }),
    );
    mta.on('error', () => undefined);
    mta.on('close', () => {
      for (const s of sockets) s.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export interface PingPongScript {
  readonly requests: readonly Buffer[];
  readonly quit: Buffer;
}

function request(total: number, reply: number): Buffer {
  const b = Buffer.alloc(Math.max(total, REQUEST_HEADER), 0x61);
  b.writeUInt32BE(b.length - REPLY_HEADER, 0);
  b.writeUInt16BE(reply, REPLY_HEADER);
  return b;
}

/** Requests of the same sizes as the milter session's writes, each asking for a reply of the same size. */
export function pingPongScript(shape: SessionShape): PingPongScript {
  return {
    requests: shape.requests.map((n, i) => request(n, shape.replies[i] ?? REPLY_HEADER + 1)),
    quit: request(shape.quit, 0),
  };
}

/** One "session": connect, one request/reply per round trip, send the closing packet and end. */
export function pingPongSession(path: string, script: PingPongScript): Promise<void> {
  return new Promise((resolve, reject) => {
    const { requests, quit } = script;
    const socket = connect(path);
    let next = 0;
    let rest: Buffer | undefined;
    socket.once('connect', () => socket.write(requests[next++]!));
    socket.on('data', (chunk: Buffer) => {
      const data = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
      let off = 0;
      while (data.length - off >= REPLY_HEADER) {
        const len = data.readUInt32BE(off);
        if (data.length - off < REPLY_HEADER + len) break;
        off += REPLY_HEADER + len;
        if (next === requests.length) {
          socket.end(quit);
          resolve();
          return;
        }
        socket.write(requests[next++]!);
      }
      rest = off < data.length ? data.subarray(off) : undefined;
    });
    socket.on('error', reject);
  });
}
