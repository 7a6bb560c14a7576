/**
 * What BODY and TEXT need of a message's MIME tree, and no more: in the order text-match.ts `bodyTexts`
 * visits them, each part's header range (below the root: TEXT searches those headers) and each leaf's
 * body range with what decoding it takes (textual or not, transfer encoding, charset). Kept by the store
 * beside the message (Mailbox.meta kind 'layout', about a tenth of the size of the whole tree's JSON) so
 * that a body search reads and parses little besides the message itself, as Dovecot streams a message
 * through its search without keeping a MIME tree.
 */
import { partCharset } from '../../mail/mime/decode-text.js';
import type { MimePart } from '../../mail/mime/structure.js';
import { bodySearched } from './text-match.js';

/**
 * A part's header (headerStart, bodyStart), or a searched leaf's body (bodyStart, end, textual, encoding,
 * charset); a leaf BODY does not search (an attachment: text-match.ts bodySearched) has no body step.
 */
export type Step = readonly [0, number, number] | readonly [1, number, number, 0 | 1, string | null, string | null];

/**
 * Bumped when the record's meaning changes: older records are computed again (2: attachments left out;
 * 3: a part's last Content-Type decides that, as in Dovecot).
 */
const VERSION = 3;

export function layoutOf(root: MimePart): Step[] {
  const steps: Step[] = [];
  const walk = (part: MimePart, isRoot: boolean): void => {
    if (!isRoot) steps.push([0, part.headerStart, part.bodyStart]);
    // a multipart's own body is preamble and epilogue: not searched (Dovecot), even without parts
    if (part.kind === 'multipart' || part.children.length > 0) {
      for (const child of part.children) walk(child, false);
      return;
    }
    if (!bodySearched(part)) return;
    const textual = part.type === null || part.type.toLowerCase() === 'text';
    steps.push([1, part.bodyStart, part.end, textual ? 1 : 0, part.encoding, textual ? partCharset(part) : null]);
  };
  walk(root, true);
  return steps;
}

export function encodeLayout(steps: readonly Step[]): string {
  return JSON.stringify([VERSION, ...steps]);
}

/** The cached record, or undefined when absent, damaged or of another version. */
export function decodeLayout(json: string | undefined): Step[] | undefined {
  if (json === undefined) return undefined;
  try {
    const a = JSON.parse(json) as unknown;
    if (!Array.isArray(a) || a[0] !== VERSION) return undefined;
    return a.slice(1) as Step[];
  } catch {
    return undefined;
  }
}
