/**
 * What the command tests share: a world per test (Env over the memory store), delivery of small messages,
 * and SELECT with its responses read up to the tagged reply.
 */
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { MemoryMailboxStore, type MemoryStoreOptions } from '../../../src/store/mailbox/memory.js';
import type { Client, Env } from '../harness/transcript.js';

/** Delivers `n` small messages to a user's folder (INBOX by default). */
export async function deliver(env: Env, n: number, options: { user?: string; mailbox?: string; text?: (i: number) => string } = {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    const text = options.text?.(i) ?? `Subject: ${i}\n\nbody ${i}\n`;
    await env.store.delivery.deliver(options.user ?? 'alice', () => Readable.from([Buffer.from(text)]), {
      hostname: 'test',
      ...(options.mailbox === undefined ? {} : { mailbox: options.mailbox }),
    });
  }
}

/** SELECT (or EXAMINE) a mailbox, checking EXISTS, reading everything up to the tagged OK. */
export async function select(c: Client, mailbox: string, exists: number, verb = 'SELECT'): Promise<void> {
  await c.run(`
    C: s1 ${verb} ${mailbox}
    S: * FLAGS *
    S: * OK [PERMANENTFLAGS *] *
    S: * ${exists} EXISTS
    S: * * RECENT
  `);
  for (let line = await c.line(); !line.startsWith('s1 '); line = await c.line()) expect(line).toMatch(/^\* OK \[/);
}

/** Gives the Env a memory store with other options (quota, limits) before any client is made. */
export function useStore(env: Env, options: MemoryStoreOptions): MemoryMailboxStore {
  const store = new MemoryMailboxStore(options);
  Object.defineProperty(env, 'store', { value: store });
  return store;
}

/** Lines of the next response up to and including the tagged one (for order-free checks). */
export async function response(c: Client, tag: string): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await c.line();
    lines.push(line);
    if (line.startsWith(`${tag} `)) return lines;
  }
}
