/**
 * The contract between the IMAP session and the commands: one CommandHandler per command file (SELECT,
 * FETCH, STORE...), registered by name in commands/index.ts. A handler parses its arguments from an
 * ArgCursor (a ParseError becomes a tagged BAD), then runs against a SessionContext, writing untagged
 * responses through `session.out` and returning the Completion the session sends as the tagged reply.
 *
 * What the session does around every handler, so that handlers need not:
 * - refuses the command in a state the handler does not list (BAD with a text saying why);
 * - maps a thrown MailboxError to `NO [code]` and anything else to `NO [SERVERBUG]` with one log line;
 * - after `run`, brings the selected mailbox up to date and sends the untagged EXISTS/RECENT/FETCH
 *   updates, and EXPUNGE ones only when `expungeSafe` (or the command came as UID ...), RFC 3501 §7.4.1;
 * - writes the tagged reply, then honours `logout` (BYE already sent by the handler) and closes.
 */
import type { UserMailboxes } from '../store/mailbox/mailbox-store.js';
import type { SelectedMailbox } from './selected.js';
import type { ArgCursor } from './wire/cursor.js';
import type { ResponseCode, ResponseWriter } from './wire/encoder.js';
import type { LiteralAnnouncement, LiteralSink, LiteralStart } from './wire/frame.js';
import type { ResponseCodeName } from './wire/response-codes.js';

/** RFC 3501 §3: the connection's state; `logout` once LOGOUT or a BYE was sent. */
export type ImapState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

/** Any authenticated state: most mailbox commands. */
export const AUTHENTICATED: readonly ImapState[] = ['authenticated', 'selected'];
export const SELECTED: readonly ImapState[] = ['selected'];
export const ANY_STATE: readonly ImapState[] = ['not-authenticated', 'authenticated', 'selected'];
export const NOT_AUTHENTICATED: readonly ImapState[] = ['not-authenticated'];

/** Handlers read their arguments with the wire's cursor (RFC 3501 §9 productions; ParseError → BAD). */
export type { ArgCursor } from './wire/cursor.js';
export { ParseError } from './wire/frame.js';
/** Responses are written with the wire's ResponseWriter and values (atom, num, str, list, streamed...). */
export type { ResponseWriter } from './wire/encoder.js';

/** The tagged reply: status, an optional response code (`[READ-WRITE]`, `[APPENDUID 38505 3955]`) and text. */
export interface Completion {
  readonly status: 'OK' | 'NO' | 'BAD';
  readonly code?: ResponseCode;
  readonly text: string;
}

function completion(status: Completion['status'], text: string, code?: ResponseCodeName | ResponseCode): Completion {
  if (code === undefined) return { status, text };
  return { status, text, code: typeof code === 'string' ? { name: code } : code };
}

/** `ok('Select completed.', 'READ-WRITE')`, `ok('Done', { name: 'APPENDUID', args: '38505 3955' })`. */
export const ok = (text: string, code?: ResponseCodeName | ResponseCode): Completion => completion('OK', text, code);
export const no = (text: string, code?: ResponseCodeName | ResponseCode): Completion => completion('NO', text, code);
export const bad = (text: string, code?: ResponseCodeName | ResponseCode): Completion => completion('BAD', text, code);

/** What the session tells a handler about the command it is running. */
export interface CommandInfo {
  readonly tag: string;
  /** The command name in upper case, without `UID `. */
  readonly name: string;
  /** It came as `UID <name>`: numbers are UIDs, and EXPUNGE responses are allowed during it. */
  readonly uid: boolean;
}

/** What a handler sees of its session. Everything a command may change goes through these methods. */
export interface SessionContext {
  readonly state: ImapState;
  /** The canonical user once authenticated. */
  readonly user: string | undefined;
  /** The user's mailboxes (authenticated and selected states; undefined before). */
  readonly mailboxes: UserMailboxes | undefined;
  /** The selected mailbox (selected state only). */
  readonly selected: SelectedMailbox | undefined;
  /** The connection is encrypted (implicit TLS, or after STARTTLS). */
  readonly tls: boolean;
  readonly clientAddress: string;
  /** Extensions the client turned on with ENABLE (upper case), or implicitly (CONDSTORE by a CONDSTORE command). */
  readonly enabled: ReadonlySet<string>;
  /** The largest APPEND literal (APPENDLIMIT). */
  readonly appendLimit: number;
  readonly out: ResponseWriter;
  /** The capabilities to announce now (they depend on the state and TLS). */
  capabilities(): readonly string[];
  /** Turns an extension on (ENABLE; CONDSTORE when a client first uses a CONDSTORE feature, RFC 7162 §3.1). */
  enable(extension: string): void;
  /**
   * Enters the selected state on `mailbox` (already opened by the caller), closing a previously selected
   * one first — without EXPUNGE responses (RFC 3501 §6.3.1). SELECT/EXAMINE only.
   */
  select(mailbox: SelectedMailbox): Promise<void>;
  /** Back to authenticated (CLOSE, UNSELECT, a failed SELECT). Closes the handle; idempotent. */
  unselect(): Promise<void>;
  /** A password may be sent now (TLS, or a client in plaintext_auth_networks): else NO [PRIVACYREQUIRED]. */
  passwordsAllowed(): boolean;
  /**
   * Checks a login and password (LOGIN, AUTHENTICATE PLAIN) and does everything around it: refusal before
   * TLS, the per-address delay, the per-connection failure limit (BYE), the log lines, the state change.
   * The Completion is the command's tagged reply.
   */
  login(login: string, password: string, method: string): Promise<Completion>;
  /** After the handler's reply: upgrade to TLS, discarding anything the client sent after the command. */
  startTls(): void;
  /** COMPRESS=DEFLATE is on, or will be after this command's reply. */
  readonly compressed: boolean;
  /** After the handler's reply (written uncompressed): raw DEFLATE both ways (RFC 4978). */
  compress(): void;
  /** Marks the session as ending: after the tagged reply the connection closes (LOGOUT, too many failures). */
  logout(): void;
  /** One line from the client (AUTHENTICATE responses, IDLE's DONE); undefined when the client went away. */
  readLine(): Promise<Buffer | undefined>;
  /** Until the client sends a line: store changes are sent at once, keepalives sent (IDLE). The line, or undefined. */
  idleUntilLine(): Promise<Buffer | undefined>;
  /** For handlers that log (one line per event). */
  log(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void;
  /**
   * Runs `task` once this command's tagged reply is written, before the next command: writes of derived
   * data (FETCH's cached texts) that the client need not wait for. A failure is logged, never replied.
   */
  afterReply(task: () => Promise<void>): void;
}

/** One command. `A` is what `parse` returns and `run` receives. */
export interface CommandHandler<A = unknown> {
  /** Upper case, e.g. `SELECT`. */
  readonly name: string;
  /** States it runs in; in any other the session answers BAD with a text saying why (log in first, no mailbox selected...). */
  readonly states: readonly ImapState[];
  /** `UID <name>` exists (COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE). */
  readonly uidForm?: boolean;
  /**
   * Untagged EXPUNGE may be sent before this command's tagged reply. False for FETCH, STORE and SEARCH
   * (RFC 3501 §7.4.1: the client's sequence numbers must stay valid); their UID forms are always safe.
   */
  readonly expungeSafe: boolean;
  /** Reads the arguments; throws ParseError (→ BAD). `args.end()` is checked by the session afterwards. */
  parse(args: ArgCursor, command: CommandInfo): A;
  /**
   * A synchronising literal `{n}` of this command is about to be read (APPEND's message, say): return a
   * Completion to refuse it unread (it is the command's tagged reply; the client then never sends the
   * bytes), or undefined to take it. Without this hook every literal within the reader's limits is taken.
   */
  literal?(session: SessionContext, announcement: LiteralAnnouncement): Completion | undefined;
  /**
   * Takes a literal's bytes as they arrive instead of the frame keeping them (APPEND into a MessageBody, so
   * a large message never sits in memory whole): return a sink, or undefined to leave the literal in the
   * frame. `parse` then meets a sunk literal segment (`args.literalSegment()`: size only). The handler keeps
   * what it made until `run` (per session and tag); a command refused before `run` (bad syntax, wrong
   * state) leaves it to the handler to drop at its next openLiteral.
   */
  openLiteral?(session: SessionContext, start: LiteralStart): LiteralSink | undefined;
  /** Runs; may throw MailboxError (→ NO [code]). */
  run(session: SessionContext, args: A, command: CommandInfo): Promise<Completion>;
}

/** A handler registry entry without its argument type (the table holds many). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommandHandler = CommandHandler<any>;

/** Declares a handler with its argument type checked between parse and run. */
export function command<A>(handler: CommandHandler<A>): CommandHandler<A> {
  return handler;
}
