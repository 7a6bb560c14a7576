/**
 * In-process change notifications: a mailbox (Maildir root + index id) → the listeners of every handle
 * open on it in this process. Fed by the store's own writes and by delivery, so a session in IDLE hears of
 * a change made through another handle at once; other processes' changes arrive through the fs.watch each
 * watching handle keeps on its folder's new/ and cur/ (maildir-mailbox.ts). Listeners run on a later turn of
 * the event loop, after the mutation's promise has settled, as the memory store's do.
 */
type Listener = () => void;

const listeners = new Map<string, Set<Listener>>();

export function mailboxKey(root: string, mailboxId: number): string {
  return `${root}\n${mailboxId}`;
}

export function listen(key: string, listener: Listener): () => void {
  let set = listeners.get(key);
  if (set === undefined) {
    set = new Set();
    listeners.set(key, set);
  }
  set.add(listener);
  return () => {
    const current = listeners.get(key);
    if (current === undefined) return;
    current.delete(listener);
    if (current.size === 0) listeners.delete(key);
  };
}

export function announce(key: string): void {
  const set = listeners.get(key);
  if (set === undefined || set.size === 0) return;
  setImmediate(() => {
    for (const listener of [...set]) listener();
  });
}
