/**
 * Which Unicode mailbox names a user may have, and their one canonical spelling. Names come from IMAP
 * already decoded from modified UTF-7 and use '/' as the hierarchy separator. The rules keep a name from
 * reaching outside the user's Maildir (no '.'/'..' component, no empty component, no NUL or other control)
 * and from being ambiguous (no wildcard, INBOX case-insensitive at the top level only, as RFC 3501 §5.1
 * and Dovecot have it). A refusal carries a reason fit for a `NO [CANNOT]` reply.
 */
import { encodeFolderMutf7 } from './folder-mutf7.js';
import { escapeListComponent } from './listescape.js';

export const MAILBOX_SEPARATOR = '/';
/** The whole name, UTF-8 bytes (the plan's limit; Dovecot's default is 255 per level). */
export const MAX_MAILBOX_NAME_BYTES = 1000;
/** One component as it is stored on disk (mUTF-7, escaped): a file name component's limit on Linux. */
export const MAX_FOLDER_COMPONENT_BYTES = 255;
/** Levels of hierarchy (Dovecot's mailbox_list_max_level default is 16). */
export const MAX_MAILBOX_DEPTH = 16;

export type MailboxNameCheck =
  | { readonly ok: true; readonly name: string; readonly components: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** True for INBOX in any case: the top-level name only ("INBOX/x" is a child, not INBOX). */
export function isInboxName(name: string): boolean {
  return name.length === 5 && name.toUpperCase() === 'INBOX';
}

/**
 * Validates `name` and returns its canonical form ("inbox" → "INBOX", "inbox/x" → "INBOX/x"; every other
 * component is kept as it is, case included) with its components, or the reason it is refused.
 */
export function checkMailboxName(name: string): MailboxNameCheck {
  if (name.length === 0) return refuse('the mailbox name is empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_MAILBOX_NAME_BYTES) return refuse(`the mailbox name is longer than ${MAX_MAILBOX_NAME_BYTES} bytes`);
  if (/\p{Cs}/u.test(name)) return refuse('the mailbox name is not valid Unicode (a lone surrogate)');
  for (const ch of name) {
    const code = ch.codePointAt(0) as number;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return refuse('the mailbox name holds a control character');
    if (ch === '%' || ch === '*') return refuse(`the mailbox name holds the wildcard "${ch}"`);
  }
  if (name.startsWith(MAILBOX_SEPARATOR)) return refuse('the mailbox name starts with the hierarchy separator');
  if (name.endsWith(MAILBOX_SEPARATOR)) return refuse('the mailbox name ends with the hierarchy separator');
  const components = name.split(MAILBOX_SEPARATOR);
  if (components.length > MAX_MAILBOX_DEPTH) return refuse(`the mailbox name has more than ${MAX_MAILBOX_DEPTH} levels`);
  for (const c of components) {
    if (c.length === 0) return refuse('the mailbox name has an empty level (a doubled separator)');
    if (c === '.' || c === '..') return refuse(`the mailbox name has a "${c}" level`);
    if (escapeListComponent(encodeFolderMutf7(c)).length > MAX_FOLDER_COMPONENT_BYTES) {
      return refuse(`a level of the mailbox name is longer than ${MAX_FOLDER_COMPONENT_BYTES} bytes on disk`);
    }
  }
  if (isInboxName(components[0] as string)) components[0] = 'INBOX';
  return { ok: true, name: components.join(MAILBOX_SEPARATOR), components };
}

/** The canonical name, or throws an Error with the reason (for callers that map it to NO [CANNOT]). */
export function canonicalMailboxName(name: string): string {
  const check = checkMailboxName(name);
  if (!check.ok) throw new Error(check.reason);
  return check.name;
}

/** The parent of a canonical name ("a/b/c" → "a/b"), undefined at the top level. */
export function mailboxParent(name: string): string | undefined {
  const at = name.lastIndexOf(MAILBOX_SEPARATOR);
  return at === -1 ? undefined : name.slice(0, at);
}

/** True when `name` is `ancestor` or below it ("a/b" is under "a"; "ab" is not). */
export function isSameOrUnder(name: string, ancestor: string): boolean {
  return name === ancestor || name.startsWith(ancestor + MAILBOX_SEPARATOR);
}

function refuse(reason: string): MailboxNameCheck {
  return { ok: false, reason };
}
