/**
 * The shared greylist store: several MX hosts point at one Redis (ioredis) and see the same tuples.
 *
 * Layout under a configurable prefix (default "mailgate:greylist:"):
 *   PREFIX t:["ADDRESS","SENDER","RECIPIENT"]  hash {kind, created, accept_after, expires, hits};
 *                                               its Redis TTL ends at `expires`, so Redis forgets it
 *   PREFIX a:ADDRESS                           sorted set of every tuple of the address
 *                                               (member ["SENDER","RECIPIENT"], score expires): --addr
 *   PREFIX w:ADDRESS                           the same for autowhite tuples only: lazyaw lookups
 * The index sets live as long as their longest member. A member whose hash Redis already expired is
 * stale; readers skip it, so index and hashes never need a cross-key transaction to stay correct.
 */
import { Redis } from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { DEFAULT_GREYLIST_REDIS_PREFIX } from '../../config/builtins/greylist.js';
import type { GreylistEntry, GreylistEntryKind, GreylistQuery, GreylistStore, GreylistTuple } from './store.js';

export interface RedisGreylistStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss://... */
  readonly url: string;
  /** Default: the configuration's default `redis_prefix`. */
  readonly prefix?: string;
  /** The caller's clock: turns `expires` into a Redis TTL (so an injected test clock works too). */
  readonly now?: () => number;
  /** Connecting and each command fail after this long (ms): an unreachable Redis fails fast. */
  readonly connectTimeoutMs?: number;
  readonly commandTimeoutMs?: number;
}

/** Any failure talking to Redis, naming the server (password hidden) and the last connection error. */
export class RedisGreylistStoreError extends Error {
  override readonly name = 'RedisGreylistStoreError';
}

/**
 * putMany's batch: ARGV[1] is the prefix, ARGV[2] the clock, then 9 values per entry (tuple JSON, address, member JSON,
 * kind, created, accept_after, expires, hits, ttl ms); the same commands as queuePut.
 */
const PUT_MANY_LUA = `
local prefix, now = ARGV[1], ARGV[2]
local function index(key, score, member, ttl)
  redis.call('ZADD', key, score, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
  redis.call('PEXPIRE', key, ttl, 'NX')
  redis.call('PEXPIRE', key, ttl, 'GT')
end
for i = 3, #ARGV, 9 do
  local tuple, address, member, kind = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local expires, ttl = ARGV[i + 6], ARGV[i + 8]
  local key = prefix .. 't:' .. tuple
  redis.call('HSET', key, 'kind', kind, 'created', ARGV[i + 4], 'accept_after', ARGV[i + 5], 'expires', expires, 'hits', ARGV[i + 7])
  redis.call('PEXPIRE', key, ttl)
  index(prefix .. 'a:' .. address, expires, member, ttl)
  if kind == 'autowhite' then
    index(prefix .. 'w:' .. address, expires, member, ttl)
  else
    redis.call('ZREM', prefix .. 'w:' .. address, member)
  end
end
return 0
`;

/** Keys fetched per SCAN step / pipeline. */
const BATCH = 500;
const FIELDS = ['kind', 'created', 'accept_after', 'expires', 'hits'] as const;

export class RedisGreylistStore implements GreylistStore {
  readonly prefix: string;
  private readonly redis: Redis;
  private readonly now: () => number;
  private readonly where: string;
  private lastConnectionError: string | undefined;

  constructor(options: RedisGreylistStoreOptions) {
    this.prefix = options.prefix ?? DEFAULT_GREYLIST_REDIS_PREFIX;
    this.now = options.now ?? Date.now;
    this.where = `Redis ${redactUrl(options.url)}`;
    this.redis = new Redis(options.url, {
      connectTimeout: options.connectTimeoutMs ?? 1_000,
      commandTimeout: options.commandTimeoutMs ?? 1_000,
      // Queued commands fail after one reconnection attempt instead of waiting for Redis to come back:
      // the greylist filter then applies its fallback for this RCPT.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 2_000),
      lazyConnect: false,
    });
    // Without a listener ioredis prints every failed reconnection; keep the reason for our errors.
    this.redis.on('error', (err: Error) => {
      this.lastConnectionError = err.message;
    });
    this.redis.on('ready', () => {
      this.lastConnectionError = undefined;
    });
  }

  async get(tuple: GreylistTuple, now: number): Promise<GreylistEntry | undefined> {
    return this.run(async () => {
      // Redis forgets a tuple when its TTL ends, in Redis's clock; `now` is the caller's.
      const entry = toEntry(tuple, await this.redis.hgetall(this.tupleKey(tuple)));
      return entry !== undefined && entry.expires >= now ? entry : undefined;
    });
  }

  async getAutowhiteForAddress(address: string, now: number): Promise<GreylistEntry | undefined> {
    return this.run(async () => {
      const index = this.key('w', address);
      // The newest autowhite member; a stale one (hash gone or no longer autowhite) is dropped and
      // the next tried. Bounded so a burst of stale members cannot make one RCPT slow.
      for (let attempt = 0; attempt < 8; attempt++) {
        const [member] = await this.redis.zrevrangebyscore(index, '+inf', now, 'LIMIT', 0, 1);
        if (member === undefined) return undefined;
        const pair = parseMember(member);
        const entry = pair && toEntry({ address, sender: pair[0], recipient: pair[1] }, await this.redis.hgetall(this.key('t', JSON.stringify([address, ...pair]))));
        if (entry?.kind === 'autowhite' && entry.expires >= now) return entry;
        await this.redis.zrem(index, member);
      }
      return undefined;
    });
  }

  async put(entry: GreylistEntry): Promise<void> {
    await this.run(async () => {
      checkReply(await this.queuePut(this.redis.multi(), entry).exec());
    });
  }

  /**
   * Writes many entries for a bulk load (the benchmark, an import): batches of `batch` entries, each
   * one server-side script doing what put() does for every entry. About three times faster than
   * pipelining the commands, since the client then only encodes arguments; Redis runs each batch
   * atomically (tens of milliseconds), so this is not for a server busy with live traffic.
   */
  async putMany(entries: Iterable<GreylistEntry>, batch = 2_000): Promise<void> {
    await this.run(async () => {
      let args: (string | number)[] = [];
      let now = this.now();
      const send = async (): Promise<void> => {
        if (args.length > 0) await this.redis.eval(PUT_MANY_LUA, 0, this.prefix, now, ...args);
        args = [];
        now = this.now();
      };
      for (const e of entries) {
        const ttl = Math.max(1, Math.ceil(e.expires - now));
        args.push(JSON.stringify([e.address, e.sender, e.recipient]), e.address, JSON.stringify([e.sender, e.recipient]), e.kind, e.created, e.acceptAfter, e.expires, e.hits, ttl);
        if (args.length >= batch * 9) await send();
      }
      await send();
    });
  }

  async delete(tuple: GreylistTuple): Promise<void> {
    await this.run(async () => {
      checkReply(await this.queueDelete(this.redis.multi(), tuple).exec());
    });
  }

  async *list(query: GreylistQuery = {}): AsyncIterable<GreylistEntry> {
    const batches = this.batches(query);
    for (;;) {
      const next = await this.run(() => batches.next());
      if (next.done === true) return;
      yield* next.value;
    }
  }

  async flush(query: GreylistQuery = {}): Promise<number> {
    return this.run(async () => {
      if (query.address !== undefined || query.kind !== undefined) return this.deleteWhere(query, () => true);
      // Only this store's own keys (tuples, counted, then the index sets), a SCAN page at a time: a
      // longer prefix sharing ours (another MX's "…:mx2:") and anything else in the database stay.
      let n = 0;
      for (const kind of ['t', 'a', 'w'] as const) {
        for await (const keys of this.scanKeys(`${kind}:*`)) {
          if (keys.length === 0) continue;
          const removed = await this.redis.unlink(...keys);
          if (kind === 't') n += removed;
        }
      }
      return n;
    });
  }

  /**
   * Redis already drops a tuple when its TTL (= expires) passes; this removes what is expired by the
   * caller's clock but not yet by Redis's. It scans every tuple: a maintenance operation, not per RCPT.
   */
  async purgeExpired(now: number): Promise<number> {
    return this.run(() => this.deleteWhere({}, (e) => e.expires < now));
  }

  async count(query: GreylistQuery = {}): Promise<number> {
    return this.run(async () => {
      let n = 0;
      if (query.address === undefined && query.kind === undefined) {
        for await (const keys of this.scanKeys('t:*')) n += keys.length;
        return n;
      }
      for await (const entries of this.batches(query)) n += entries.length;
      return n;
    });
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  /** Redis's own report on its memory (the benchmark): INFO memory's used_memory, in bytes. */
  async usedMemory(): Promise<number> {
    return this.run(async () => {
      const info = await this.redis.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
    });
  }

  private queuePut(pipe: ChainableCommander, e: GreylistEntry): ChainableCommander {
    // PUT_MANY_LUA does the same for a batch: keep the two in step.
    const now = this.now();
    const ttl = Math.max(1, Math.ceil(e.expires - now));
    const member = JSON.stringify([e.sender, e.recipient]);
    const tupleKey = this.tupleKey(e);
    pipe.hset(tupleKey, 'kind', e.kind, 'created', e.created, 'accept_after', e.acceptAfter, 'expires', e.expires, 'hits', e.hits);
    pipe.pexpire(tupleKey, ttl);
    this.queueIndex(pipe, this.key('a', e.address), member, e.expires, ttl, now);
    if (e.kind === 'autowhite') this.queueIndex(pipe, this.key('w', e.address), member, e.expires, ttl, now);
    else pipe.zrem(this.key('w', e.address), member);
    return pipe;
  }

  /**
   * Adds `member`, drops members already expired (an address that keeps sending keeps its set alive,
   * so they would pile up), and extends the set's TTL to cover it (NX: a new set; GT: a later expiry).
   */
  private queueIndex(pipe: ChainableCommander, key: string, member: string, score: number, ttl: number, now: number): void {
    pipe.zadd(key, score, member);
    pipe.zremrangebyscore(key, '-inf', `(${now}`);
    pipe.call('PEXPIRE', key, ttl, 'NX');
    pipe.call('PEXPIRE', key, ttl, 'GT');
  }

  private queueDelete(pipe: ChainableCommander, tuple: GreylistTuple): ChainableCommander {
    const member = JSON.stringify([tuple.sender, tuple.recipient]);
    pipe.del(this.tupleKey(tuple));
    pipe.zrem(this.key('a', tuple.address), member);
    pipe.zrem(this.key('w', tuple.address), member);
    return pipe;
  }

  /** Deletes the entries of `query` that `test` accepts; returns how many hashes were deleted. */
  private async deleteWhere(query: GreylistQuery, test: (e: GreylistEntry) => boolean): Promise<number> {
    let n = 0;
    for await (const entries of this.batches(query)) {
      const doomed = entries.filter(test);
      if (doomed.length === 0) continue;
      const pipe = this.redis.pipeline();
      for (const e of doomed) this.queueDelete(pipe, e);
      const replies = checkReply(await pipe.exec());
      // Every third reply is the DEL of the hash: 1 when this call removed it.
      for (let i = 0; i < replies.length; i += 3) n += Number(replies[i]);
    }
    return n;
  }

  /** The entries of `query`, a batch at a time: from the address's index set, or a SCAN of all tuples. */
  private async *batches(query: GreylistQuery): AsyncGenerator<GreylistEntry[]> {
    if (query.address !== undefined) {
      const address = query.address;
      const members = await this.redis.zrange(this.key('a', address), 0, -1);
      const tuples = members.flatMap((m) => {
        const pair = parseMember(m);
        return pair ? [{ address, sender: pair[0], recipient: pair[1] }] : [];
      });
      for (let i = 0; i < tuples.length; i += BATCH) yield await this.fetch(tuples.slice(i, i + BATCH), query.kind);
      return;
    }
    for await (const keys of this.scanKeys('t:*')) {
      const tuples = keys.flatMap((k) => {
        const t = parseTupleKey(k.slice(this.prefix.length + 2));
        return t ? [t] : [];
      });
      if (tuples.length > 0) yield await this.fetch(tuples, query.kind);
    }
  }

  private async fetch(tuples: GreylistTuple[], kind: GreylistEntryKind | undefined): Promise<GreylistEntry[]> {
    const pipe = this.redis.pipeline();
    for (const t of tuples) pipe.hmget(this.tupleKey(t), ...FIELDS);
    const replies = checkReply(await pipe.exec());
    const out: GreylistEntry[] = [];
    tuples.forEach((t, i) => {
      const values = replies[i] as (string | null)[];
      const entry = toEntry(t, Object.fromEntries(FIELDS.flatMap((f, j) => (values[j] == null ? [] : [[f, values[j]]]))));
      if (entry !== undefined && (kind === undefined || entry.kind === kind)) out.push(entry);
    });
    return out;
  }

  /** SCAN (never KEYS) for PREFIX + pattern, a page at a time. */
  private async *scanKeys(pattern: string): AsyncGenerator<string[]> {
    const match = escapeGlob(this.prefix) + pattern;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', BATCH);
      cursor = next;
      yield keys;
    } while (cursor !== '0');
  }

  private versionChecked: Promise<void> | undefined;

  /** PEXPIRE … NX/GT (the index TTLs) came with Redis 7.0: an older server would fail every put. */
  private async checkVersion(): Promise<void> {
    try {
      const info = await this.redis.info('server');
      const version = /^redis_version:(\S+)/m.exec(info)?.[1];
      const major = Number(version?.split('.')[0]);
      if (version !== undefined && Number.isFinite(major) && major < 7) {
        throw new RedisGreylistStoreError(`greylist store: ${this.where}: Redis ${version} is too old; the greylist store needs Redis 7.0 or later`);
      }
    } catch (err) {
      this.versionChecked = undefined; // asked again next time (a connection failure is not a verdict)
      throw err;
    }
  }

  private key(kind: 't' | 'a' | 'w', rest: string): string {
    return `${this.prefix}${kind}:${rest}`;
  }

  private tupleKey(t: GreylistTuple): string {
    return this.key('t', JSON.stringify([t.address, t.sender, t.recipient]));
  }

  /** Runs one store operation, turning any Redis failure into one clear error. */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      this.versionChecked ??= this.checkVersion();
      await this.versionChecked;
      return await op();
    } catch (err) {
      if (err instanceof RedisGreylistStoreError) throw err;
      const reason = (err as Error).message;
      const why = this.lastConnectionError !== undefined && this.lastConnectionError !== reason ? `${reason} (${this.lastConnectionError})` : reason;
      throw new RedisGreylistStoreError(`greylist store: ${this.where}: ${why}`, { cause: err });
    }
  }
}

/** Pipeline/transaction replies, throwing the first command error (exec's null: a discarded MULTI). */
function checkReply(replies: [Error | null, unknown][] | null): unknown[] {
  if (replies === null) throw new Error('transaction discarded');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function toEntry(t: GreylistTuple, h: Record<string, string>): GreylistEntry | undefined {
  const kind = h['kind'];
  if (kind !== 'pending' && kind !== 'autowhite') return undefined; // absent (or not ours)
  return {
    address: t.address,
    sender: t.sender,
    recipient: t.recipient,
    kind,
    created: Number(h['created']),
    acceptAfter: Number(h['accept_after']),
    expires: Number(h['expires']),
    hits: Number(h['hits'] ?? 0),
  };
}

function parseJsonStrings(text: string, n: number): string[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.length === n && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

function parseMember(member: string): [string, string] | undefined {
  const v = parseJsonStrings(member, 2);
  return v && [v[0] ?? '', v[1] ?? ''];
}

function parseTupleKey(text: string): GreylistTuple | undefined {
  const v = parseJsonStrings(text, 3);
  return v && { address: v[0] ?? '', sender: v[1] ?? '', recipient: v[2] ?? '' };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** The URL for messages, without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
