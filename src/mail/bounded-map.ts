/**
 * A Map that holds at most `limit` entries: setting a new key when it is full drops the oldest one
 * (insertion order, which is what a Map keeps). The caches in front of lookups a client can make
 * arbitrarily many of (client names, network answers, account answers) use it so that no stream of new
 * keys can make them grow without end. In mail/ because both store/ and the services use it.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.limit && !this.has(key)) {
      const oldest = this.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
