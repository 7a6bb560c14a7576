// When a beforeAll hook throws, vitest fails the file but reports the
// describe's tests as *skipped* (and scripts/test.sh's summary then counts 0
// failures). A SetupGuard makes every test of the describe FAIL with the
// start error instead:
//
//   const setup = setupGuard();
//   beforeAll(() => setup.run(async () => { peer = td.add(await startPeer()); }));
//   test('...', async () => { setup.check(); ... });
//
// A nested describe passes its parent's guard, so that a parent's failure is
// reported in the child's tests too (instead of a TypeError on an unset peer).
export interface SetupGuard {
  /** Runs the setup, recording (not throwing) its error. */
  run(setup: () => Promise<void>): Promise<void>;
  /** Throws the recorded setup error (or the parent's), if any. */
  check(): void;
  /** True once run() completed without error (and the parent's did too). */
  readonly ok: boolean;
}

export function setupGuard(parent?: SetupGuard): SetupGuard {
  let error: unknown;
  let failed = false;
  let done = false;
  return {
    async run(setup) {
      try {
        parent?.check();
        await setup();
      } catch (err) {
        failed = true;
        error = err;
      } finally {
        done = true;
      }
    },
    check() {
      parent?.check();
      if (failed) throw error;
      if (!done) throw new Error('setup has not run (is setup.run() called from beforeAll?)');
    },
    get ok() {
      return done && !failed && (parent?.ok ?? true);
    },
  };
}
