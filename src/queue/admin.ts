/**
 * What `mailgate queue` does, without the command line: a listing in the form of `postqueue -p`, one
 * message in the manner of `postcat`, and hold/release/delete/flush in the manner of `postsuper` and
 * `postqueue -f`. Each changes the files (the truth, whether or not a scheduler runs) and then tells a
 * running scheduler over its control socket (control.ts), so the change takes effect at once.
 */
import { open } from 'node:fs/promises';
import { sendControl } from './control.js';
import { QUEUE_ID } from './id.js';
import { initialState, type MessageState } from './state.js';
import type { QueueStore, StoredMessage } from './store.js';

export interface QueueEntry {
  readonly stored: StoredMessage;
  readonly state: MessageState;
  readonly hold: string | undefined;
}

export class QueueAdminError extends Error {
  override readonly name = 'QueueAdminError';
}

export async function readEntry(store: QueueStore, id: string): Promise<QueueEntry | undefined> {
  if (!QUEUE_ID.test(id)) throw new QueueAdminError(`${JSON.stringify(id)} is not a queue id`);
  const stored = await store.readMessage(id);
  if (stored === undefined) return undefined;
  const state = (await store.readState(stored.envelope)) ?? initialState(stored.envelope);
  return { stored, state, hold: await store.holdReason(id) };
}

export async function listEntries(store: QueueStore): Promise<QueueEntry[]> {
  const out: QueueEntry[] = [];
  for (const id of await store.listIds()) {
    const e = await readEntry(store, id).catch(() => undefined); // removed meanwhile, or unreadable
    if (e !== undefined) out.push(e);
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** postqueue's arrival time: "Thu Dec  3 10:04:20" (local time, as postqueue). */
function arrivalText(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The listing of `postqueue -p`: `!` after the id of a held message; pending recipients with the last reason. */
export function formatListing(entries: readonly QueueEntry[]): string {
  if (entries.length === 0) return 'Mail queue is empty\n';
  const lines = ['-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------'];
  let bytes = 0;
  for (const e of entries) {
    const env = e.stored.envelope;
    bytes += e.stored.size;
    const id = env.id + (e.hold !== undefined ? '!' : ' ');
    lines.push(`${id.padEnd(11)} ${String(e.stored.size).padStart(8)} ${arrivalText(env.arrival)}  ${env.sender === '' ? 'MAILER-DAEMON' : env.sender}`);
    const pad = ' '.repeat(42);
    env.recipients.forEach((r, i) => {
      const st = e.state.recipients[i];
      if (st === undefined || st.status !== 'pending') return;
      if (st.diagnostic !== undefined) lines.push(`${pad}(${st.diagnostic})`);
      lines.push(`${pad}${r.address}`);
    });
    lines.push('');
  }
  const n = entries.length;
  lines.push(`-- ${Math.ceil(bytes / 1024)} Kbytes in ${n} Request${n === 1 ? '' : 's'}.`);
  return lines.join('\n') + '\n';
}

/** One message as `postcat -q` shows it: the envelope and each recipient's state, then the message. */
export async function formatMessage(store: QueueStore, e: QueueEntry): Promise<string> {
  const env = e.stored.envelope;
  const lines = [
    '*** ENVELOPE RECORDS ***',
    `queue_id: ${env.id}`,
    `arrival_time: ${new Date(env.arrival).toISOString()}`,
    `message_size: ${e.stored.size}`,
    `sender: ${env.sender}`,
    `client: ${env.client}`,
  ];
  if (env.ret !== undefined) lines.push(`dsn_ret: ${env.ret}`);
  if (env.envid !== undefined) lines.push(`dsn_envid: ${env.envid}`);
  if (e.hold !== undefined) lines.push(`hold: ${e.hold}`);
  env.recipients.forEach((r, i) => {
    const st = e.state.recipients[i]!;
    if (r.original !== r.address) lines.push(`original_recipient: ${r.original}`);
    if (r.orcpt !== undefined) lines.push(`dsn_orig_rcpt: ${r.orcpt}`);
    if (r.notify !== undefined) lines.push(`dsn_notify: ${r.notify === 'NEVER' ? 'NEVER' : r.notify.join(',')}`);
    const last = st.diagnostic !== undefined ? `, last: ${st.enhanced ?? ''} ${st.diagnostic}` : '';
    const next = st.status === 'pending' && st.attempts > 0 ? `, next attempt ${new Date(st.next).toISOString()}` : '';
    lines.push(`recipient: ${r.address} (${st.status}, attempts ${st.attempts}${next}${last})`);
  });
  lines.push('*** MESSAGE CONTENTS ***');
  const fh = await open(store.layout.message(env.id), 'r');
  try {
    const buf = Buffer.alloc(e.stored.size);
    await fh.read(buf, 0, buf.length, e.stored.bodyOffset);
    return lines.join('\n') + '\n' + buf.toString('utf8').replace(/\r\n/g, '\n') + '\n*** END OF MESSAGE ***\n';
  } finally {
    await fh.close();
  }
}

export interface AdminResult {
  /** The change was made (false: no such message, or nothing to change). */
  readonly done: boolean;
  /** A running scheduler was told. */
  readonly notified: boolean;
}

async function tell(store: QueueStore, c: Parameters<typeof sendControl>[1]): Promise<boolean> {
  return sendControl(store.layout.socket, c);
}

export async function holdMessage(store: QueueStore, id: string, reason = 'held by the administrator'): Promise<AdminResult> {
  if (!QUEUE_ID.test(id)) throw new QueueAdminError(`${JSON.stringify(id)} is not a queue id`);
  if (!(await store.exists(id))) return { done: false, notified: false };
  await store.setHold(id, reason);
  if (!(await store.exists(id))) await store.clearHold(id); // delivered and removed meanwhile
  return { done: true, notified: await tell(store, { op: 'hold', id }) };
}

export async function releaseMessage(store: QueueStore, id: string): Promise<AdminResult> {
  if (!QUEUE_ID.test(id)) throw new QueueAdminError(`${JSON.stringify(id)} is not a queue id`);
  const done = await store.clearHold(id);
  return { done, notified: done && (await tell(store, { op: 'release', id })) };
}

export async function deleteMessage(store: QueueStore, id: string): Promise<AdminResult> {
  if (!QUEUE_ID.test(id)) throw new QueueAdminError(`${JSON.stringify(id)} is not a queue id`);
  const done = await store.remove(id);
  return { done, notified: done && (await tell(store, { op: 'delete', id })) };
}

export async function flushQueue(store: QueueStore): Promise<AdminResult> {
  return { done: true, notified: await tell(store, { op: 'flush' }) };
}
