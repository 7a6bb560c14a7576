/**
 * The X-Virus-Scanned / X-Virus-Status headers, as clamav-milter's AddHeader writes them:
 * Replace deletes every existing one (last first, so the indexes stay valid) and appends both;
 * Add inserts both at index 1 (below the first header, usually the MTA's Received), Status above
 * Scanned, exactly like clamav-milter's two smfi_insheader(ctx, 1, ...) calls.
 */
import type { ClamavHeaderMode } from '../../config/builtins/clamav.js';
import type { Change } from '../../mail/changes.js';

export const SCANNED = 'X-Virus-Scanned';
export const STATUS = 'X-Virus-Status';

export function scannedValue(version: string | undefined, host: string): string {
  return version === undefined ? `ClamAV at ${host}` : `ClamAV ${version} at ${host}`;
}

export function statusValue(virus: string | undefined): string {
  return virus === undefined ? 'Clean' : `Infected (${virus})`;
}

/**
 * `existing`: how many X-Virus-Scanned and X-Virus-Status headers the message has (Replace removes them).
 */
export function virusHeaderChanges(
  mode: ClamavHeaderMode,
  existing: { readonly scanned: number; readonly status: number },
  scanned: string,
  status: string,
): Change[] {
  if (mode === 'no') return [];
  if (mode === 'add') {
    return [
      { kind: 'insertHeader', index: 1, name: SCANNED, value: scanned },
      { kind: 'insertHeader', index: 1, name: STATUS, value: status },
    ];
  }
  const changes: Change[] = [];
  for (let i = existing.scanned; i >= 1; i--) changes.push({ kind: 'changeHeader', index: i, name: SCANNED, value: '' });
  for (let i = existing.status; i >= 1; i--) changes.push({ kind: 'changeHeader', index: i, name: STATUS, value: '' });
  changes.push({ kind: 'addHeader', name: SCANNED, value: scanned }, { kind: 'addHeader', name: STATUS, value: status });
  return changes;
}
