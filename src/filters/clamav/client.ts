/** A clamd client over the pool: zINSTREAM scans, zPING and zVERSION. Failures throw ClamdError. */
import type { ConnectionSpec } from '../../config/connection-spec.js';
import { ClamdError } from './connection.js';
import { ClamdPool, type PoolOptions, type PoolReply } from './pool.js';
import { encodeInstream, parsePing, parseScanReply, parseVersion, ZPING, ZVERSION, type ClamdVersion, type ScanReply } from './protocol.js';
import { ClamdStream } from './stream.js';

export type ScanResult = ScanReply & { readonly address: string };

export class ClamdClient {
  private readonly pool: ClamdPool;

  constructor(addresses: readonly ConnectionSpec[], options: PoolOptions) {
    this.pool = new ClamdPool(addresses, options);
  }

  /**
   * A scan streamed as its data comes: connects now (to the next address), sends each `write` at
   * once; `finish` it for the result, or `abandon` it.
   */
  stream(): ClamdStream {
    return new ClamdStream(this.pool);
  }

  /** Scans `parts` as one stream. clamd's ERROR and unknown replies are results, not exceptions. */
  async scan(parts: readonly Buffer[]): Promise<ScanResult> {
    return scanResult(await this.pool.request(encodeInstream(parts)));
  }

  /** Closes the connections kept for later requests (keepAlive). */
  close(): void {
    this.pool.close();
  }

  async ping(): Promise<boolean> {
    return parsePing((await this.pool.request([ZPING])).reply);
  }

  async version(): Promise<ClamdVersion> {
    const { reply, address } = await this.pool.request([ZVERSION]);
    const version = parseVersion(reply);
    if (!version) throw new ClamdError('exchange', address, `not a VERSION reply: ${JSON.stringify(reply.slice(0, 80))}`);
    return version;
  }
}

/** A reply to zINSTREAM, parsed, with the address that gave it (built field by field: this runs per message). */
export function scanResult({ reply, address }: PoolReply): ScanResult {
  const r = parseScanReply(reply);
  switch (r.kind) {
    case 'clean':
      return { kind: 'clean', address };
    case 'infected':
      return { kind: 'infected', virus: r.virus, address };
    case 'error':
      return { kind: 'error', message: r.message, sizeLimit: r.sizeLimit, address };
    case 'unknown':
      return { kind: 'unknown', text: r.text, address };
  }
}
