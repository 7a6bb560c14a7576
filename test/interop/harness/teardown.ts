// Collects stop() functions so afterAll can stop every peer a test file
// started, in reverse order, even when an earlier stop or a test failed.
export interface Stoppable {
  stop(): Promise<unknown>;
}

export class Teardown {
  private readonly stack: Array<() => Promise<unknown>> = [];

  /** Registers `peer` for teardown and returns it, so starts read naturally. */
  add<T extends Stoppable>(peer: T): T {
    this.stack.push(() => peer.stop());
    return peer;
  }

  defer(fn: () => Promise<unknown>): void {
    this.stack.push(fn);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.stack.length > 0) {
      const fn = this.stack.pop();
      try {
        await fn?.();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
  }
}
