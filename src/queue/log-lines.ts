/**
 * The queue's log lines in the form of Postfix's qmgr and smtp/local lines, so that people and log
 * tools that read Postfix logs read these: `ID: from=<…>, size=…, nrcpt=… (queue active)`,
 * `ID: to=<…>, relay=…, delay=…, dsn=…, status=sent (…)`, `ID: removed`.
 */
export function fromLine(id: string, sender: string, size: number, nrcpt: number, queue: 'active' | 'hold'): string {
  return `${id}: from=<${sender}>, size=${size}, nrcpt=${nrcpt} (queue ${queue})`;
}

export function toLine(o: {
  id: string;
  address: string;
  original: string;
  relay: string | undefined;
  delayMs: number;
  enhanced: string;
  status: 'sent' | 'deferred' | 'bounced' | 'expired';
  diagnostic: string;
}): string {
  const orig = o.original !== o.address ? `, orig_to=<${o.original}>` : '';
  const delay = (Math.max(o.delayMs, 0) / 1000).toFixed(2).replace(/\.?0+$/, '') || '0';
  const diag = o.diagnostic.replace(/[\r\n]+/g, ' ');
  return `${o.id}: to=<${o.address}>${orig}, relay=${o.relay ?? 'none'}, delay=${delay}, dsn=${o.enhanced}, status=${o.status} (${diag})`;
}

export function expiredLine(id: string, sender: string): string {
  return `${id}: from=<${sender}>, status=expired, returned to sender`;
}

export function noticeLine(id: string, kind: 'failure' | 'delay' | 'success', dsnId: string): string {
  const what = kind === 'failure' ? 'non-delivery' : kind === 'delay' ? 'delay' : 'delivery status';
  return `${id}: sender ${what} notification: ${dsnId}`;
}

export const removedLine = (id: string): string => `${id}: removed`;
