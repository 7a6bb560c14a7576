import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionContext } from '../../src/mail/filter.js';
import { MacroStore } from '../../src/milter/macro-store.js';

export function tempDir(prefix = 'mailgate-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * This process's open descriptors on message-body spill files made in `where` (unlinked at once, so
 * they show in Linux's /proc as "(deleted)"), as /proc paths that stat() follows.
 */
export function spillDescriptors(where: string = tmpdir()): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target.startsWith(join(where, `mailgate-body-${process.pid}-`)) && target.endsWith(' (deleted)')) out.push(`/proc/self/fd/${fd}`);
  }
  return out;
}

export function context(macros = new MacroStore()): SessionContext & { store: MacroStore } {
  return { macros, store: macros, progress: () => Promise.resolve() };
}
