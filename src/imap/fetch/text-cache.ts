/**
 * The finished IMAP text of ENVELOPE, BODY and BODYSTRUCTURE, kept by the store beside the parsed tree
 * (Mailbox.meta/saveMeta, kind 'fetch-text'), so a warm FETCH of them copies text out instead of parsing
 * JSON and re-encoding a tree per message — what Dovecot does with its cache file's imap.envelope and
 * imap.bodystructure fields. The texts are byte strings (one char per byte, latin1), exactly the bytes
 * sent. The cached value carries a version tag: a value written by another version of this code (or
 * damaged) is recomputed from the tree and replaced, never sent.
 */
import { STRUCTURE_VERSION, type MimePart } from '../../mail/mime/structure.js';
import type { Mailbox } from '../../store/mailbox/mailbox-store.js';
import { bodyString, bodystructureString } from './bodystructure.js';
import { envelopeFields } from './envelope.js';
import { eachStructure } from './structure-cache.js';

export interface FetchTexts {
  /** `(date subject ...)`, parenthesised */
  readonly envelope: string;
  /** BODY's value, parenthesised */
  readonly body: string;
  /** BODYSTRUCTURE's value, parenthesised */
  readonly bodystructure: string;
}

/**
 * The cached form's version: this file's own (bumped whenever the encoders change what they write) and
 * the parser's (STRUCTURE_VERSION), so texts from an older encoder or parser are recomputed.
 */
const TAG = `F1.${STRUCTURE_VERSION}`;

/** The texts of one parsed message. */
export function textsOf(root: MimePart): FetchTexts {
  return { envelope: `(${envelopeFields(root.envelope)})`, body: bodyString(root), bodystructure: bodystructureString(root) };
}

/** `F1.<parser version> <envelope length> <body length>\n<envelope><body><bodystructure>` */
export function encodeTexts(t: FetchTexts): string {
  return `${TAG} ${t.envelope.length} ${t.body.length}\n${t.envelope}${t.body}${t.bodystructure}`;
}

/** The texts of a cached value; undefined for another version's value or a damaged one. */
export function decodeTexts(value: string): FetchTexts | undefined {
  const nl = value.indexOf('\n');
  if (nl < 0 || !value.startsWith(`${TAG} `)) return undefined;
  const sp = value.indexOf(' ', TAG.length + 1);
  if (sp < 0 || sp > nl) return undefined;
  const envLen = Number(value.slice(TAG.length + 1, sp));
  const bodyLen = Number(value.slice(sp + 1, nl));
  if (!Number.isSafeInteger(envLen) || !Number.isSafeInteger(bodyLen) || envLen < 0 || bodyLen < 0) return undefined;
  const a = nl + 1;
  const b = a + envLen;
  const c = b + bodyLen;
  if (c > value.length) return undefined;
  const envelope = value.slice(a, b);
  const body = value.slice(b, c);
  const bodystructure = value.slice(c);
  // every one is a parenthesised list: a cut or shifted value fails here
  if (envelope[0] !== '(' || body[0] !== '(' || bodystructure[0] !== '(' || !envelope.endsWith(')') || !body.endsWith(')') || !bodystructure.endsWith(')')) return undefined;
  return { envelope, body, bodystructure };
}

/**
 * The texts of `uids` (expunged messages are left out): cached ones from the store in one read, the others
 * from the MIME tree (`parts` when the caller already has it, else loaded or parsed) and saved — or, with
 * `unsaved`, their encoded form put there for the caller to save later (after its reply).
 */
export async function loadFetchTexts(
  handle: Mailbox,
  uids: readonly number[],
  parts?: ReadonlyMap<number, MimePart>,
  unsaved?: Map<number, string>,
): Promise<Map<number, FetchTexts>> {
  const out = new Map<number, FetchTexts>();
  const cached = await handle.meta(uids, 'fetch-text');
  const missing: number[] = [];
  for (const uid of uids) {
    const value = cached.get(uid);
    const texts = value === undefined ? undefined : decodeTexts(value);
    if (texts !== undefined) out.set(uid, texts);
    else missing.push(uid);
  }
  if (missing.length === 0) return out;
  const fresh = unsaved ?? new Map<number, string>();
  const add = (uid: number, root: MimePart): void => {
    const texts = textsOf(root);
    out.set(uid, texts);
    fresh.set(uid, encodeTexts(texts));
  };
  if (parts !== undefined) {
    for (const uid of missing) {
      const root = parts.get(uid);
      if (root !== undefined) add(uid, root);
    }
  } else {
    // each tree made into texts and dropped at once (structure-cache.ts eachStructure says why)
    await eachStructure(handle, missing, 'large', add);
  }
  if (unsaved === undefined && fresh.size > 0) await handle.saveMeta('fetch-text', fresh);
  return out;
}
