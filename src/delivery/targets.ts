/**
 * The places a delivery connects to, as Targets: a remote SMTP server's address (named as Postfix logs
 * it, "mx.example.org[192.0.2.1]:25"), or the LMTP server of `lmtp` over TCP or a unix-domain socket.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { LmtpEndpoint } from './lmtp-endpoint.js';
import type { HopAddress } from './next-hop.js';
import { SmtpClient } from './smtp-client.js';
import type { Target } from './smtp-delivery.js';

/** What every session shares: our EHLO name and the timeouts. */
export interface SessionSettings {
  readonly ehloName: string;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Aborted at shutdown: every connection is cut. */
  readonly signal?: AbortSignal;
}

export function smtpTarget(hop: HopAddress, session: SessionSettings, auth?: { readonly user: string; readonly pass: string }): Target {
  const label = `${hop.name}[${hop.address}]`;
  const relay = `${label}:${hop.port}`;
  return {
    label,
    relay,
    open: () => SmtpClient.open({ host: hop.address, port: hop.port, label, relay, lmtp: false, ...session, ...(auth === undefined ? {} : { auth }) }),
  };
}

/** A unix-domain socket, connected (nodemailer dials only TCP itself). */
function connectUnix(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('Connection timed out'), { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // nodemailer's own handlers take over as soon as it has the socket
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(Object.assign(err, { originalCode: (err as NodeJS.ErrnoException).code, code: 'ESOCKET' }));
    });
  });
}

export function lmtpTargets(endpoint: LmtpEndpoint, session: SessionSettings): Target[] {
  if (endpoint.kind === 'unix') {
    const label = endpoint.path;
    const relay = `lmtp:unix:${endpoint.path}`;
    return [
      {
        label,
        relay,
        open: async () =>
          SmtpClient.open({ host: 'localhost', port: 0, socket: await connectUnix(endpoint.path, session.connectTimeoutMs), label, relay, lmtp: true, ...session }),
      },
    ];
  }
  const label = `${endpoint.host}[${endpoint.host}]`;
  const relay = `lmtp:[${endpoint.host}]:${endpoint.port}`;
  return [{ label, relay, open: () => SmtpClient.open({ host: endpoint.host, port: endpoint.port, label, relay, lmtp: true, ...session }) }];
}
