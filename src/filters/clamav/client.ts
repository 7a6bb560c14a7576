/** A clamd client over the pool: zINSTREAM scans, zPING and zVERSION. Failures throw ClamdError. */
import type { ConnectionSpec } from '../../config/connection-spec.js';
import { ClamdError, type ClamdConnection } from './connection.js';
import { ClamdPool, type PoolOptions } from './pool.js';
import { encodeInstream, parsePing, parseScanReply, parseVersion, ZPING, ZVERSION, type ClamdVersion, type ScanReply } from './protocol.js';

export type ScanResult = ScanReply & { readonly address: string };

export class ClamdClient {
  private readonly pool: ClamdPool;

  constructor(addresses: readonly ConnectionSpec[], options: PoolOptions) {
    this.pool = new ClamdPool(addresses, options);
  }

  /** A connection opened now for a scan to come (see ClamdPool.reserve); close() it if unused. */
  reserve(): ClamdConnection {
    return this.pool.reserve();
  }

  /**
   * Scans `parts` as one stream, on `reserved` when it is still usable. clamd's ERROR and unknown
   * replies are results, not exceptions.
   */
  async scan(parts: readonly Buffer[], reserved?: ClamdConnection): Promise<ScanResult> {
    const { reply, address } = await this.pool.request(encodeInstream(parts), reserved);
    return { ...parseScanReply(reply), address };
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
