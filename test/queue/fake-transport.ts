/** An in-memory Transport for the queue's tests: a function decides each recipient's fate; calls are recorded. */
import type { DeliveryRequest, RecipientResult, Transport } from '../../src/store/transport.js';

export interface Delivery {
  readonly queueId: string;
  readonly sender: string;
  readonly recipients: string[];
  readonly message: string;
  readonly ret?: 'FULL' | 'HDRS';
}

export type Decide = (rcpt: string, req: DeliveryRequest) => Partial<RecipientResult> | Promise<Partial<RecipientResult>>;

export class FakeTransport implements Transport {
  readonly deliveries: Delivery[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private waiters: (() => void)[] = [];

  constructor(public decide: Decide = () => ({})) {}

  async deliver(req: DeliveryRequest): Promise<RecipientResult[]> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const c of req.openMessage()) chunks.push(c as Buffer);
      const message = Buffer.concat(chunks).toString('utf8');
      const results: RecipientResult[] = [];
      for (const r of req.recipients) {
        const d = await this.decide(r.address, req);
        results.push({
          address: r.address,
          status: d.status ?? 'delivered',
          enhanced: d.enhanced ?? (d.status === 'failed' ? '5.1.1' : d.status === 'deferred' ? '4.4.1' : '2.0.0'),
          diagnostic: d.diagnostic ?? (d.status === 'failed' ? '550 5.1.1 no such user' : d.status === 'deferred' ? 'connect refused' : '250 ok'),
          ...(d.remoteReply !== undefined ? { remoteReply: d.remoteReply } : {}),
          ...(d.dsnPassedOn !== undefined ? { dsnPassedOn: d.dsnPassedOn } : {}),
          relay: d.relay ?? 'mx.example.org[192.0.2.1]:25',
        });
      }
      this.deliveries.push({ queueId: req.queueId, sender: req.sender, recipients: req.recipients.map((r) => r.address), message, ...(req.ret !== undefined ? { ret: req.ret } : {}) });
      return results;
    } finally {
      this.inFlight -= 1;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves when `pred` holds, checked after each delivery (and now). */
  async until(pred: () => boolean, what = 'condition', ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  async close(): Promise<void> {}
}

/** A logger that keeps the lines (the pino surface the queue uses). */
export function memoryLogger(): { lines: string[]; logger: import('../../src/mail/logger.js').Logger } {
  const lines: string[] = [];
  const push = (a: unknown, b?: unknown): void => {
    lines.push(typeof a === 'string' ? a : String(b));
  };
  const logger = { debug: push, info: push, warn: push, error: push, child: () => logger } as unknown as import('../../src/mail/logger.js').Logger;
  return { lines, logger };
}
