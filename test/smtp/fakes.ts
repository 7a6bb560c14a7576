/**
 * In-memory stand-ins for the Spool and the Accounts the SMTP server is given (the real ones are the
 * queue's and the accounts' work, wired in at integration): enough to see what the server hands over.
 */
import type { Accounts, Resolution } from '../../src/store/accounts/accounts.js';
import type { Spool, SpoolInput } from '../../src/store/spool.js';

export interface Spooled extends Omit<SpoolInput, 'message'> {
  readonly data: Buffer;
}

export class MemorySpool implements Spool {
  readonly messages: Spooled[] = [];
  private n = 0;
  /** Set to make the next enqueue fail (as a full disk would). */
  failNext = false;

  newId(): string {
    this.n++;
    return `4TEST${String(this.n).padStart(6, '0')}`;
  }

  async enqueue(input: SpoolInput): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of input.message) chunks.push(c as Buffer);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    const { message: _m, ...rest } = input;
    this.messages.push({ ...rest, data: Buffer.concat(chunks) });
  }
}

export class MemoryAccounts implements Accounts {
  constructor(
    readonly domains: readonly string[],
    /** address → password */
    readonly users: Record<string, string>,
    /** alias address → targets */
    readonly aliases: Record<string, readonly string[]> = {},
  ) {}

  isLocalDomain(domain: string): boolean {
    return this.domains.includes(domain.toLowerCase());
  }

  localDomains(): readonly string[] {
    return [...this.domains].sort();
  }

  resolve(address: string, depth = 0): Resolution {
    const a = address.toLowerCase();
    const domain = a.slice(a.lastIndexOf('@') + 1);
    if (!this.isLocalDomain(domain)) return { kind: 'remote' };
    if (depth > 10) return { kind: 'loop', detail: a };
    if (a in this.users) return { kind: 'local', targets: [{ type: 'mailbox', user: a }] };
    const alias = this.aliases[a];
    if (!alias) return { kind: 'unknown' };
    const targets = [];
    for (const t of alias) {
      const r = this.resolve(t, depth + 1);
      if (r.kind === 'loop' || r.kind === 'unknown') return r.kind === 'loop' ? r : { kind: 'unknown' };
      if (r.kind === 'remote') targets.push({ type: 'remote' as const, address: t });
      else targets.push(...r.targets);
    }
    return { kind: 'local', targets };
  }

  authenticate(login: string, password: string): Promise<string | undefined> {
    const a = login.toLowerCase();
    return Promise.resolve(this.users[a] !== undefined && this.users[a] === password ? a : undefined);
  }

  mayUseSender(user: string, sender: string): boolean {
    const s = sender.toLowerCase();
    return s === user || (this.aliases[s]?.includes(user) ?? false);
  }

  maildirOf(user: string): string {
    return `/nonexistent/${user}`;
  }

  quotaOf(): undefined {
    return undefined;
  }

  close(): void {}
}
