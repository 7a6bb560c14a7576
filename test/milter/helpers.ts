import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionContext } from '../../src/mail/filter.js';
import { MacroStore } from '../../src/milter/macro-store.js';

export function tempDir(prefix = 'mailgate-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function context(macros = new MacroStore()): SessionContext & { store: MacroStore } {
  return { macros, store: macros, progress: () => Promise.resolve() };
}
