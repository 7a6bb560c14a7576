/** Shared by the auth filter tests: a DNS stub, keys and their DNS records, and a session driver. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SENDER_AUTH_DEFAULTS, type SenderAuthOptions } from '../../../src/config/builtins/sender-auth.js';
import type { FilterContext } from '../../../src/filters/context.js';
import { createSenderAuthFilter } from '../../../src/filters/sender-auth/index.js';
import { createDnsResolver } from '../../../src/filters/shared/dns.js';
import { createSpfChecker } from '../../../src/filters/shared/spf.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import type { EndOfMessageResult } from '../../../src/mail/changes.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import type { Capabilities, SessionContext } from '../../../src/mail/filter.js';
import { canonicalMacroName } from '../../../src/mail/macros.js';
import type { Reply } from '../../../src/mail/reply.js';
import { startDnsStub, type DnsStub, type DnsZone } from '../../interop/harness/dns-stub.js';

export const AUTHSERV = 'mx.test.example';

export interface Env {
  stub: DnsStub;
  ctx: FilterContext;
  logs: Record<string, unknown>[];
  dir: string;
  close(): Promise<void>;
}

/** A stub serving `zone`, a resolver with short timeouts pointed at it, and a context logging into `logs`. */
export async function environment(zone: DnsZone, dnsTimeoutMs = 1000): Promise<Env> {
  const stub = await startDnsStub(zone);
  const resolver = createDnsResolver([stub.server], dnsTimeoutMs);
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const dir = mkdtempSync(join(tmpdir(), 'auth-test-'));
  const ctx: FilterContext = { logger, dataDir: dir, now: Date.now, resolver, spf: createSpfChecker(resolver, { mta: AUTHSERV, timeoutMs: 5000 }) };
  return {
    stub,
    ctx,
    logs,
    dir,
    async close() {
      await stub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function options(over: Partial<SenderAuthOptions> = {}): SenderAuthOptions {
  return { ...SENDER_AUTH_DEFAULTS, sign: [], signNetworks: [...SENDER_AUTH_DEFAULTS.signNetworks], spfSkipNetworks: [...SENDER_AUTH_DEFAULTS.spfSkipNetworks], authservId: AUTHSERV, checkTimeout: 5, ...over };
}

export function sessionContext(macros: Record<string, string> = {}): SessionContext {
  const m = new Map(Object.entries(macros).map(([k, v]) => [canonicalMacroName(k), v]));
  return { macros: { get: (n) => m.get(canonicalMacroName(n)), all: () => Object.fromEntries(m), forStage: () => [] }, progress: async () => undefined };
}

export interface Delivery {
  address?: string;
  family?: ConnectionInfo['family'];
  helo?: string;
  sender?: string;
  macros?: Record<string, string>;
  /** Header fields as they would be written (`Name: value`); values sent with their leading space. */
  headers?: [string, string][];
  body?: string;
}

export interface Run {
  caps: Capabilities;
  mail: Reply;
  eom?: EndOfMessageResult;
}

/** Drives one message through a filter as the milter server would (FULL_OFFER: leading spaces kept). */
export async function deliver(filter: ReturnType<typeof createSenderAuthFilter>, d: Delivery = {}): Promise<Run> {
  const s = await filter.open();
  const caps = await s.negotiate(FULL_OFFER);
  const sctx = sessionContext(d.macros);
  await s.connect?.({ hostname: 'client.example.net', family: d.family ?? 'inet', address: d.address ?? '192.0.2.10', port: 4000 }, sctx);
  await s.helo?.(d.helo ?? 'client.example.net', sctx);
  const mail = (await s.mail?.(`<${d.sender ?? 'alice@example.com'}>`, [], sctx)) ?? { status: 'continue' as const };
  if (mail.status !== 'continue') {
    await s.abort?.(sctx);
    return { caps, mail };
  }
  for (const [name, value] of d.headers ?? []) await s.header?.(name, caps.leadingSpace ? ` ${value}` : value, sctx);
  await s.body?.(Buffer.from((d.body ?? 'Hello.\r\n').replace(/\r?\n/g, '\r\n')), sctx);
  const eom = await s.endOfMessage?.(sctx);
  await s.close?.();
  return { caps, mail, ...(eom ? { eom } : {}) };
}

export const HEADERS: [string, string][] = [
  ['From', 'Alice <alice@example.com>'],
  ['To', 'bob@example.org'],
  ['Subject', 'Hello'],
  ['Date', 'Mon, 1 Jan 2024 00:00:00 +0000'],
  ['Message-ID', '<1@example.com>'],
];

/** The message as bytes (for signing it the way a remote sender would). */
export function messageBytes(headers: [string, string][], body = 'Hello.\r\n'): Buffer {
  return Buffer.from(`${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${body.replace(/\r?\n/g, '\r\n')}`);
}

/** Splits a signed message's DKIM-Signature header (from mailauth) into [name, value] for deliver(). */
export function signatureField(signatures: string): [string, string] {
  const line = signatures.replace(/\r\n$/, '');
  return ['DKIM-Signature', line.slice(line.indexOf(':') + 1).trimStart().replace(/\r\n/g, '\n')];
}

export interface KeyPair {
  privatePem: string;
  /** The `v=DKIM1; k=...; p=...` TXT record. */
  record: string;
}

export function rsaKey(bits = 2048): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { privatePem: pem(privateKey), record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}` };
}

export function ed25519Key(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  return { privatePem: pem(privateKey), record: `v=DKIM1; k=ed25519; p=${raw.toString('base64')}` };
}

function pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function writeKey(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The value of the first inserted/added header `name` among the changes, or undefined. */
export function added(eom: EndOfMessageResult | undefined, name: string): string | undefined {
  const c = eom?.changes.find((x) => (x.kind === 'insertHeader' || x.kind === 'addHeader') && x.name.toLowerCase() === name.toLowerCase());
  return c && 'value' in c ? c.value : undefined;
}
