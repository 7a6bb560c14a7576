/** The stress threshold's background postconf lookup: a failure to even start postconf is one warning, never a crash. */
import { afterEach, describe, expect, it } from 'vitest';
import { PostfixStress } from '../../src/cli/postfix-stress.js';
import { captureLogger, until } from '../milter/wire-helpers.js';

const BIG = 'MAILGATE_TEST_E2BIG';

afterEach(() => {
  delete process.env[BIG];
});

describe('PostfixStress.refresh', () => {
  it('a spawn that fails synchronously (E2BIG) logs one warning and leaves no unhandled rejection (failed before: the rejection killed the manager)', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      // One environment string over the kernel's 128 KiB MAX_ARG_STRLEN: execve fails with E2BIG,
      // which Node's spawn throws synchronously (unlike ENOENT, reported through the callback).
      process.env[BIG] = 'x'.repeat(200_000);
      const log = captureLogger();
      const stress = new PostfixStress(log.logger);
      stress.refresh();
      expect(await until(() => log.warns().length > 0 || rejections.length > 0)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(rejections).toEqual([]);
      expect(log.warns()).toHaveLength(1);
      expect(log.warns()[0]!.msg).toMatch(/postconf/);
      expect(stress.threshold).toBe(0);
      await stress.stop();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
