/**
 * DKIM verification and DMARC evaluation of one message through mailauth, turned into
 * Authentication-Results rows and the sender's DMARC policy. Never throws: a timeout or a failure
 * inside the library becomes a temperror row.
 */
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dmarc } from 'mailauth/lib/dmarc/index.js';
import type { DnsResolver } from '../shared/dns.js';
import type { SpfResult } from '../shared/spf.js';
import type { ResultRow } from './auth-results.js';
import { timerDelay } from '../../config/timer-limit.js';

export interface VerifyInput {
  /** The whole message, CRLF line ends. */
  readonly raw: Buffer;
  readonly resolver: DnsResolver;
  readonly minKeyBits: number;
  /** Signature time checks (t=, x=) use this clock. */
  readonly now: number;
  readonly timeoutMs: number;
  /** The SPF result of MAIL FROM, for DMARC's SPF alignment. */
  readonly spf?: { readonly result: SpfResult; readonly domain: string };
  /** DKIM-Signature fields in the message: mailauth silently skips unusable ones, we report them. */
  readonly signatureFields: number;
}

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcVerdict {
  readonly result: string;
  /** The From: domain evaluated. */
  readonly fromDomain: string;
  /** The policy that applies to this From: domain (p=, or sp= for a subdomain). */
  readonly policy?: DmarcPolicy;
  /** pct=, when the record has one. */
  readonly pct?: number;
}

export interface VerifyOutcome {
  readonly rows: readonly ResultRow[];
  readonly dmarc?: DmarcVerdict;
  /** Why verification could not be done, for the log (timeout, library error). */
  readonly error?: string;
}

/** mailauth says `neutral (body hash did not verify)`; RFC 6376 §6.1.3 calls that a PERMFAIL: dkim=fail. */
const BODY_HASH = 'body hash did not verify';

export async function verifyMessage(input: VerifyInput): Promise<VerifyOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timerDelay(input.timeoutMs));
  });
  try {
    const outcome = await Promise.race([evaluate(input), timeout]);
    if (outcome !== 'timeout') return outcome;
    const comment = `no answer within ${input.timeoutMs} ms`;
    return { rows: [{ method: 'dkim', result: 'temperror', comment }, { method: 'dmarc', result: 'temperror', comment }], error: comment };
  } catch (err) {
    const comment = `verification failed: ${(err as Error).message}`;
    return { rows: [{ method: 'dkim', result: 'temperror', comment }], error: comment };
  } finally {
    clearTimeout(timer);
  }
}

async function evaluate(input: VerifyInput): Promise<VerifyOutcome> {
  const resolver = input.resolver as never;
  const dkim = await dkimVerify(input.raw, { resolver, minBitLength: input.minKeyBits, curTime: input.now });
  const rows: ResultRow[] = [];
  const passed: { id?: string; domain: string; aligned?: boolean; underSized?: boolean }[] = [];
  for (const r of dkim.results ?? []) {
    const status = r.status ?? { result: 'none' };
    let result: string = String(status.result ?? 'none');
    if (result === 'neutral' && status.comment === BODY_HASH) result = 'fail';
    if (result === 'temperr') result = 'temperror';
    if (result === 'none') {
      rows.push({ method: 'dkim', result: 'none' });
      continue;
    }
    if (result === 'pass') passed.push({ ...(r.id ? { id: r.id } : {}), domain: r.signingDomain, aligned: Boolean(status.aligned), ...(status.underSized ? { underSized: true } : {}) });
    rows.push({
      method: 'dkim',
      result,
      ...(typeof status.comment === 'string' ? { comment: status.comment } : {}),
      props: [
        ['header.d', r.signingDomain ?? ''],
        ['header.s', r.selector ?? ''],
        ['header.a', String((r as { algo?: unknown }).algo ?? '')],
        ['header.b', String((r as { signature?: unknown }).signature ?? '').slice(0, 8)],
      ],
    });
  }
  const reported = rows.filter((r) => r.result !== 'none').length;
  if (reported < input.signatureFields) {
    // Signatures mailauth skipped (unknown algorithm, no d= or s=...): RFC 6376 PERMFAIL, reported once.
    for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.result === 'none') rows.splice(i, 1);
    rows.push({ method: 'dkim', result: 'permerror', comment: 'unusable signature' });
  }
  if (rows.length === 0) rows.push({ method: 'dkim', result: 'none' });

  const fromAddresses = dkim.headerFrom ?? [];
  const fromDomains = [...new Set(fromAddresses.map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()))];
  if (fromDomains.length !== 1 || fromDomains[0] === '') {
    const comment = fromDomains.length === 0 ? 'no From address' : 'several From domains';
    rows.push({ method: 'dmarc', result: 'permerror', comment });
    return { rows, dmarc: { result: 'permerror', fromDomain: '' } };
  }
  const fromDomain = fromDomains[0]!;
  const d = await dmarc({
    headerFrom: `x@${fromDomain}`,
    spfDomains: input.spf?.result === 'pass' && input.spf.domain !== '' ? [input.spf.domain] : [],
    dkimDomains: passed,
    resolver,
  });
  if (d === false) {
    rows.push({ method: 'dmarc', result: 'permerror', comment: 'From address not usable', props: [['header.from', fromDomain]] });
    return { rows, dmarc: { result: 'permerror', fromDomain } };
  }
  const result = String(d.status?.result ?? 'none');
  rows.push({
    method: 'dmarc',
    result,
    ...(typeof d.status?.comment === 'string' && d.status.comment !== '' ? { comment: d.status.comment } : {}),
    props: [['header.from', fromDomain]],
  });
  const policy = normalPolicy(d.policy);
  const pct = typeof d.pct === 'number' && Number.isFinite(d.pct) ? d.pct : undefined;
  return { rows, dmarc: { result, fromDomain, ...(policy ? { policy } : {}), ...(pct === undefined ? {} : { pct }) } };
}

function normalPolicy(p: unknown): DmarcPolicy | undefined {
  const v = typeof p === 'string' ? p.trim().toLowerCase() : '';
  return v === 'none' || v === 'quarantine' || v === 'reject' ? v : undefined;
}
