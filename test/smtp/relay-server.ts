/**
 * Test helpers for the relay tests on the wire: a real smtp-server on loopback whose onRcptTo does what
 * src/smtp/ does with a recipient (parsePath, then relayDecision, replies as Postfix words them), and a
 * raw-socket SMTP client that writes each line exactly as given, so that the tricks reach the server the
 * way an attacker types them.
 */
import { connect } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { NetworkList } from '../../src/mail/network-list.js';
import type { Reply } from '../../src/mail/reply.js';
import { isPathError, parsePath } from '../../src/smtp/address.js';
import { relayDecision } from '../../src/smtp/relay-policy.js';

export interface AcceptedRecipient {
  readonly address: string;
  readonly kind: 'local' | 'relay';
  readonly authenticated: boolean;
}

export interface RelayServer {
  readonly port: number;
  /** What onRcptTo let through since the last clear. */
  readonly accepted: AcceptedRecipient[];
  /** Replaces mynetworks (default: none, so the loopback client is a stranger). */
  setMynetworks(specs: readonly string[]): void;
  close(): Promise<void>;
}

function smtpError(reply: Reply): Error {
  // smtp-server writes `${responseCode} ${message}`; with ENHANCEDSTATUSCODES hidden (its default) it adds
  // no enhanced code of its own, so the one in the message is the only one
  return Object.assign(new Error(`${reply.enhancedCode ?? ''} ${String(reply.text ?? '')}`.trim()), { responseCode: reply.code });
}

/** The server; local domains are `localDomains` (case-insensitive); the user alice@local.example / pw may AUTH. */
export async function startRelayServer(localDomains: readonly string[]): Promise<RelayServer> {
  const local = new Set(localDomains.map((d) => d.toLowerCase()));
  const isLocalDomain = (d: string): boolean => local.has(d.toLowerCase());
  const accepted: AcceptedRecipient[] = [];
  let mynetworks = new NetworkList([]);

  const onRcptTo = (address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void): void => {
    const smtputf8 = (session.envelope as { smtpUtf8?: boolean }).smtpUtf8 === true;
    const path = parsePath(address.address, { smtputf8 });
    if (isPathError(path)) return callback(smtpError(path.reply));
    const client = { authenticated: session.user !== undefined, trusted: mynetworks.has(session.remoteAddress) };
    const decision = relayDecision(path, client, isLocalDomain, { shownAddress: address.address });
    if (!decision.allowed) return callback(smtpError(decision.reply));
    accepted.push({ address: path.address, kind: decision.kind, authenticated: client.authenticated });
    callback();
  };

  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, cb) => (auth.username === 'alice@local.example' && auth.password === 'pw' ? cb(null, { user: auth.username }) : cb(new Error('no'))),
    onRcptTo,
    onData: (stream, _session, cb) => {
      stream.resume();
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('smtp-server has no port');
  return {
    port: addr.port,
    accepted,
    setMynetworks: (specs) => {
      mynetworks = new NetworkList(specs);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * One SMTP session on a raw socket: after the greeting, each entry of `lines` is written as it is (UTF-8)
 * followed by CRLF, and its replies are read (one per CRLF it holds, plus one). Returns the last line of
 * each reply; 'closed' for a reply that never came because the server hung up.
 */
export async function rawSession(port: number, lines: readonly string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let buffer = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => undefined);
  const reply = async (): Promise<string> => {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3}(?: [^\n]*)?)\r?\n/.exec(buffer);
      if (m) {
        buffer = buffer.slice(m[0].length);
        return (m[1] as string).replace(/\r$/, '');
      }
      if (closed) return 'closed';
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const out: string[] = [];
  try {
    await reply();
    for (const line of lines) {
      socket.write(Buffer.from(`${line}\r\n`, 'utf8'));
      const count = line.split('\r\n').length;
      for (let i = 0; i < count; i++) out.push(await reply());
    }
  } finally {
    socket.end('QUIT\r\n');
  }
  return out;
}
