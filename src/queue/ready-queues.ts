/**
 * The scheduler's ready messages, one first-in first-out queue per destination (as Postfix's qmgr keeps
 * a queue per destination), with each destination's deliveries in flight. Only destinations below their
 * concurrency limit and with something waiting are "runnable", taken in turn (round robin): a destination
 * at its limit costs nothing however many messages wait for it, so one backed-up destination neither
 * holds up the others nor makes every scheduling pass walk its whole backlog.
 */

/** A first-in first-out queue with O(1) push and shift whatever its length (no Array#shift, no spread). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    // Drop the consumed front now and then, so the array does not grow for ever.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

interface Destination<T> {
  readonly waiting: Fifo<T>;
  inFlight: number;
}

export class ReadyQueues<T> {
  private readonly destinations = new Map<string, Destination<T>>();
  /** Destinations with something waiting and a free slot, in turn order (a Set keeps insertion order). */
  private readonly runnable = new Set<string>();

  constructor(private readonly limit: number) {}

  /** Deliveries in flight for `destination`. */
  inFlight(destination: string): number {
    return this.destinations.get(destination)?.inFlight ?? 0;
  }

  /** Messages waiting for `destination` (tests, `queue list`). */
  waiting(destination: string): number {
    return this.destinations.get(destination)?.waiting.length ?? 0;
  }

  push(destination: string, item: T): void {
    this.get(destination).waiting.push(item);
    this.update(destination);
  }

  /** The oldest item of the next runnable destination (which goes to the back of the turn), or undefined. */
  take(): [destination: string, item: T] | undefined {
    for (const destination of this.runnable) {
      this.runnable.delete(destination);
      const item = this.get(destination).waiting.shift();
      this.update(destination);
      if (item !== undefined) return [destination, item];
    }
    return undefined;
  }

  /** A delivery to `destination` started. */
  started(destination: string): void {
    this.get(destination).inFlight += 1;
    this.update(destination);
  }

  /** A delivery to `destination` ended: its slot is free again. */
  finished(destination: string): void {
    const d = this.destinations.get(destination);
    if (d === undefined) return;
    d.inFlight = Math.max(0, d.inFlight - 1);
    this.update(destination);
  }

  private get(destination: string): Destination<T> {
    let d = this.destinations.get(destination);
    if (d === undefined) {
      d = { waiting: new Fifo<T>(), inFlight: 0 };
      this.destinations.set(destination, d);
    }
    return d;
  }

  /** Keeps `runnable` exact, and forgets a destination with nothing waiting and nothing in flight. */
  private update(destination: string): void {
    const d = this.destinations.get(destination);
    if (d === undefined) return;
    if (d.waiting.length > 0 && d.inFlight < this.limit) this.runnable.add(destination);
    else this.runnable.delete(destination);
    if (d.waiting.length === 0 && d.inFlight === 0) this.destinations.delete(destination);
  }
}
