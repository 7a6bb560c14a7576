// Delivery requests for tests: a message held in memory, opened as often as the transport likes.
import { Readable } from 'node:stream';
import type { QueuedRecipient } from '../../src/store/spool.js';
import type { DeliveryRequest } from '../../src/store/transport.js';
import type { DeliveryAccounts } from '../../src/delivery/transport.js';

let counter = 0;

export function message(subject = 'test'): string {
  return `From: sender@origin.test\r\nTo: someone@remote.test\r\nSubject: ${subject}\r\nMessage-ID: <${++counter}@origin.test>\r\n\r\nHello.\r\n.dot line\r\n`;
}

export function request(to: readonly (string | QueuedRecipient)[], body = message(), extra: Partial<DeliveryRequest> = {}): DeliveryRequest & { opened: number } {
  const bytes = Buffer.from(body);
  const req = {
    queueId: `TEST${++counter}`,
    sender: 'sender@origin.test',
    recipients: to.map((r) => (typeof r === 'string' ? { address: r, original: r } : r)),
    size: bytes.length,
    opened: 0,
    openMessage() {
      req.opened++;
      return Readable.from([bytes]);
    },
    ...extra,
  };
  return req;
}

/** Accounts with the given local domains and users; maildirs under `root`. */
export function accountsOf(domains: readonly string[], users: readonly string[], root: string, aliases: Record<string, string[]> = {}): DeliveryAccounts {
  return {
    isLocalDomain: (d) => domains.includes(d.toLowerCase()),
    resolve(address) {
      const a = address.toLowerCase();
      const domain = a.slice(a.lastIndexOf('@') + 1);
      if (!domains.includes(domain)) return { kind: 'remote' };
      if (aliases[a] !== undefined) return { kind: 'local', targets: aliases[a].map((u) => ({ type: 'mailbox' as const, user: u })) };
      if (users.includes(a)) return { kind: 'local', targets: [{ type: 'mailbox', user: a }] };
      return { kind: 'unknown' };
    },
    maildirOf(user) {
      const [local, domain] = user.toLowerCase().split('@');
      return `${root}/${domain}/${local}`;
    },
  };
}

export const noAccounts: DeliveryAccounts = {
  isLocalDomain: () => false,
  resolve: () => ({ kind: 'remote' }),
  maildirOf: () => {
    throw new Error('no local mail here');
  },
};
