/**
 * The neutral shape of a parsed message, shared by the store (which caches it) and IMAP/POP3 (which
 * format it): a MimePart tree with byte offsets into the stored file, CRLF ("virtual") sizes and line
 * counts, each part's Content-* fields, and the envelope of every message (the root and each embedded
 * message/rfc822). It follows Dovecot's message_part / message_part_data so that BODYSTRUCTURE and
 * BODY[section] come out as Dovecot writes them.
 *
 * Everything here is plain data and serialisable to JSON (the store keeps it in SQLite as JSON):
 * numbers, null, arrays and strings only. Header-derived strings are *byte strings*: one char per
 * stored byte (latin1), so 8-bit and raw UTF-8 header bytes survive a JSON round trip exactly;
 * `Buffer.from(s, 'latin1')` gives the bytes back. Nothing here is decoded (RFC 2047 words stay raw).
 */

/** Sizes of one region (a part's header or body) as Dovecot counts them. */
export interface MimeSize {
  /** bytes in the stored file */
  readonly physical: number;
  /** bytes once every bare LF becomes CRLF: what IMAP counts (sizes, partial offsets) */
  readonly virtual: number;
  /** LF count */
  readonly lines: number;
}

/** One Content-Type / Content-Disposition parameter, name and value as written (RFC 2231 not decoded). */
export interface MimeParam {
  readonly name: string;
  readonly value: string;
}

/**
 * How the parser classed the part (Dovecot's MESSAGE_PART_FLAG_*): `multipart` has children parsed
 * at boundaries, `message` is message/rfc822 with exactly one child (the embedded message, whose
 * `envelope` is set), `text` counts lines in BODYSTRUCTURE, `other` is any other leaf.
 */
export type MimeKind = 'multipart' | 'message' | 'text' | 'other';

/** One address of an ENVELOPE list (RFC 3501 §7.4.2); a group start is mailbox=name with host null, a group end all null. */
export interface EnvelopeAddress {
  readonly name: string | null;
  readonly route: string | null;
  readonly mailbox: string | null;
  readonly host: string | null;
}

/**
 * The header fields ENVELOPE is made of, raw (unfolded only as Dovecot does: continuation lines are
 * joined with LF). Address lists are parsed; null where the field is absent or holds no address.
 * `sender`/`replyTo` are as written: the formatter applies RFC 3501's default to `from`.
 */
export interface HeaderEnvelope {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: readonly EnvelopeAddress[] | null;
  readonly sender: readonly EnvelopeAddress[] | null;
  readonly replyTo: readonly EnvelopeAddress[] | null;
  readonly to: readonly EnvelopeAddress[] | null;
  readonly cc: readonly EnvelopeAddress[] | null;
  readonly bcc: readonly EnvelopeAddress[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

/** One node of the tree. Offsets are into the stored file (LF or CRLF as stored). */
export interface MimePart {
  /** where this part's header starts (its MIME header; for the root, the message header) */
  readonly headerStart: number;
  /** where its body starts (= headerStart + header.physical) */
  readonly bodyStart: number;
  /** end of its body (exclusive; the CRLF before a boundary belongs to the boundary) */
  readonly end: number;
  readonly header: MimeSize;
  readonly body: MimeSize;
  readonly kind: MimeKind;
  /** the part hit the nesting or part-count limit: its content is kept as one opaque body */
  readonly overflow: boolean;
  /** Content-Type as written, or null when absent (or forgotten: no MIME-Version and no Content-Type) */
  readonly type: string | null;
  readonly subtype: string | null;
  readonly params: readonly MimeParam[];
  readonly id: string | null;
  readonly description: string | null;
  /** Content-Transfer-Encoding token as written (null: absent or not a single token) */
  readonly encoding: string | null;
  readonly md5: string | null;
  readonly disposition: string | null;
  readonly dispositionParams: readonly MimeParam[];
  readonly language: readonly string[] | null;
  readonly location: string | null;
  /** multipart: the parts; message: exactly one, the embedded message; leaves: empty */
  readonly children: readonly MimePart[];
  /** set on the root and on the child of every message/rfc822 part */
  readonly envelope: HeaderEnvelope | null;
  /**
   * Only on a part with more than one Content-Type field: whether the last one is text/* or message/*,
   * which decides whether SEARCH BODY/TEXT look into its body (Dovecot's message-search.c), where the
   * first decides everything else (type, boundary, charset, BODYSTRUCTURE).
   */
  readonly searchText?: boolean;
}

/**
 * Bumped whenever the parser's output for the same bytes changes (a Dovecot quirk reproduced, a
 * field added): a cache of MimePart JSON keyed by it never serves a tree from an older parser.
 */
export const STRUCTURE_VERSION = 1;
