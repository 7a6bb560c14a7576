import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { captureStrayConsole } from '../../src/cli/stray-console.js';

describe('captureStrayConsole', () => {
  it("a library's console.log goes to the logger at debug, formatted; restore puts console back", () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const original = console.log;
    const restore = captureStrayConsole(logger);
    try {
      console.log('TOTAL', 12, 'EXPECTING', 34);
    } finally {
      restore();
    }
    expect(console.log).toBe(original);
    expect(lines).toMatchObject([{ level: 20, text: 'TOTAL 12 EXPECTING 34', msg: 'console output from a library' }]);
  });
});
