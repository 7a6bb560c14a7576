/**
 * A Filter whose real filter is made at its first session: the chain only ever asks a filter to open()
 * (which may be asynchronous) and to close(), and a session's capabilities come from its negotiate(), so
 * nothing about the real filter needs to be known before then. Used for a built-in whose module is not
 * loaded yet (filters/registry.ts).
 */
import type { Filter, FilterSession } from '../mail/filter.js';

export function lazyFilter(name: string, make: () => Promise<Filter>): Filter {
  let made: Promise<Filter> | undefined;
  return {
    name,
    async open(): Promise<FilterSession> {
      // A failed make is not kept: the next session tries again, as a remote milter is reconnected.
      made ??= make().catch((err: unknown) => {
        made = undefined;
        throw err;
      });
      return (await made).open();
    },
    async close(): Promise<void> {
      if (made === undefined) return;
      const filter = await made.catch(() => undefined);
      await filter?.close?.();
    },
  };
}
