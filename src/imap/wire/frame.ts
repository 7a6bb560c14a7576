/**
 * What the command reader hands to the session: one complete command (a frame) cut into the text of its
 * lines and the payloads of its literals, or an announcement of a synchronising literal the session must
 * accept or refuse, or an error. Also ParseError, the one exception the wire code throws.
 *
 * Positions are octets from the first byte of the command as the client sent it (the `{n}` markers and
 * line ends included), so "at column 14" means the same thing whether the error is in a line or after a
 * literal.
 */
import type { ResponseCodeName } from './response-codes.js';

/** The text of one line (without a trailing `{n}` marker and without CRLF). */
export interface TextSegment {
  readonly kind: 'text';
  readonly bytes: Buffer;
  /** Octet of the command where this text starts. */
  readonly offset: number;
}

/**
 * A literal's payload, byte for byte (8-bit, binary and NUL included); or, when the reader's
 * `openLiteral` hook took it (`sunk`), only its size: the bytes went to the hook's sink as they came.
 */
export interface LiteralSegment {
  readonly kind: 'literal';
  readonly data: Buffer;
  readonly size: number;
  readonly sunk: boolean;
  /** Octet of the command where the payload starts. */
  readonly offset: number;
  /** `{n+}` (LITERAL+) rather than `{n}`. */
  readonly nonSync: boolean;
}

export type FrameSegment = TextSegment | LiteralSegment;

/**
 * One command: text, literal, text, literal, …, text (it always starts and ends with a text segment; a
 * text segment may be empty). The first text holds the tag and the command name too; `argsOffset` is the
 * octet just after the name, where the arguments (if any, starting with SP) begin.
 */
export interface CommandFrame {
  readonly tag: string;
  /** The command name, upper-cased (`UID` for every UID command: its sub-command is an argument). */
  readonly name: string;
  readonly segments: readonly FrameSegment[];
  readonly argsOffset: number;
  /** Octets of the command on the wire, line ends and literal markers included. */
  readonly size: number;
}

/**
 * A synchronising literal `{n}` the reader is waiting on: the session answers with a "+ " continuation
 * and `reader.accept()`, or with a tagged NO/BAD and `reader.refuse()` (the client then never sends the
 * bytes, and the reader goes on with the next line).
 */
export interface LiteralAnnouncement {
  readonly tag: string;
  readonly name: string;
  /** The literal's size in octets (within the reader's limits: larger ones are refused by the reader). */
  readonly size: number;
  /** Which literal of the command this is, from 0. */
  readonly index: number;
  /** The command so far: every segment before this literal (ends with the text that announced it). */
  readonly segments: readonly FrameSegment[];
  readonly argsOffset: number;
}

/** A literal about to be read, as the reader's `openLiteral` hook sees it. */
export interface LiteralStart {
  readonly tag: string;
  readonly name: string;
  readonly size: number;
  /** Which literal of the command this is, from 0. */
  readonly index: number;
  readonly nonSync: boolean;
}

/**
 * Takes a literal's bytes as they arrive instead of the frame (an APPEND into a MessageBody). Chunks are
 * views of the input: copy what must outlive the call.
 */
export type LiteralSink = (chunk: Buffer) => void;

/** Why the reader dropped a command. */
export type ReaderErrorKind =
  /** Empty line or no valid tag: answered untagged (`* BAD`), as Dovecot does. */
  | 'bad-tag'
  /** A tag but no valid command name. */
  | 'bad-command'
  /** A line (without its literals) longer than the limit; the reader resynchronised at the next line end. */
  | 'line-too-long'
  /** A literal over the size limit (`[TOOBIG]`); a LITERAL+ one was read and dropped. */
  | 'literal-too-big'
  /** The command's lines and literals together over the limit (`[TOOBIG]`). */
  | 'command-too-big'
  /** A LITERAL+ literal past even the discard cap: fatal, the caller sends BYE and closes. */
  | 'literal-overflow';

export interface ReaderError {
  readonly kind: ReaderErrorKind;
  /** The command's tag when it had a valid one (answer tagged), else undefined (answer `* BAD`). */
  readonly tag: string | undefined;
  readonly error: ParseError;
  /** The reader is dead: send `* BYE` and close the connection. */
  readonly fatal: boolean;
}

export type ReaderEvent =
  | { readonly type: 'command'; readonly frame: CommandFrame }
  | { readonly type: 'literal'; readonly announcement: LiteralAnnouncement }
  | { readonly type: 'error'; readonly error: ReaderError };

/**
 * Bad syntax at `position` (octets from the start of the command). `code` is the response code to send
 * with the answer when there is one (TOOBIG, BADCHARSET, …); `status` the answer: BAD for syntax, NO where
 * Dovecot answers NO to a well-formed argument it cannot take (a mailbox name that is not valid mUTF-7).
 * The message says what was expected and where.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly position: number,
    readonly code?: ResponseCodeName,
    readonly status: 'BAD' | 'NO' = 'BAD',
  ) {
    super(message);
  }
}
