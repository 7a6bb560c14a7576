/**
 * The spine: the Filter and FilterSession interfaces that every filter implements (built-in filters,
 * the remote milter client, the chain itself) and every driver calls (the milter server, the SMTP
 * server to come), with the milter action names and one side's part of a negotiation. Written once
 * here, in the bottom shared layer, so that no driver depends on how a filter runs.
 */
import type { Change, EndOfMessageResult } from './changes.js';
import type { ConnectionInfo } from './connection.js';
import type { MacroRequest, Macros } from './macros.js';
import type { Reply } from './reply.js';
import type { EventStage } from './stage.js';

/** Changes a filter may make at end of message (the milter action flags, by name). */
export type Action =
  | 'addHeader'
  | 'changeBody'
  | 'addRecipient'
  | 'deleteRecipient'
  | 'changeHeader'
  | 'quarantine'
  | 'changeSender'
  | 'addRecipientWithArgs'
  | 'setMacroLists';

export const ALL_ACTIONS: readonly Action[] = [
  'addHeader',
  'changeBody',
  'addRecipient',
  'deleteRecipient',
  'changeHeader',
  'quarantine',
  'changeSender',
  'addRecipientWithArgs',
  'setMacroLists',
];

/** Largest data packet a peer accepts: 64 KiB − 1 unless a larger one was negotiated. */
export type MaxDataSize = 65535 | 262143 | 1048575;

/**
 * One side's part of the negotiation: what the MTA offers, or what a filter wants.
 * This is the milter option negotiation in TypeScript terms; milter/ maps it to bits.
 */
export interface Capabilities {
  /** Milter protocol version, 2..6. */
  readonly version: number;
  readonly actions: ReadonlySet<Action>;
  /** Events to be sent. A filter leaves out events it does not care about. */
  readonly stages: ReadonlySet<EventStage>;
  /** Events the filter never answers (the NR_* flags): the MTA must not wait for a reply. */
  readonly noReply: ReadonlySet<EventStage>;
  /** The filter may answer `skip` to body chunks. */
  readonly skip: boolean;
  /** Recipients the MTA already rejected are sent too. */
  readonly rejectedRecipients: boolean;
  /** Header values keep their leading whitespace (HDR_LEADSPC). */
  readonly leadingSpace: boolean;
  readonly maxDataSize: MaxDataSize;
  /** Macros wanted per stage (needs the setMacroLists action). */
  readonly macros: MacroRequest;
}

/** What the session can do besides answering: keep a slow MTA waiting, learn the current macros. */
export interface SessionContext {
  readonly macros: Macros;
  /** Tells the MTA the filter is still working (resets its timeout). */
  progress(): Promise<void>;
}

/**
 * One SMTP connection as a filter sees it. Every stage method is optional; a missing one answers
 * `continue`. Header values and addresses are strings: UTF-8 where the bytes are valid UTF-8,
 * otherwise Latin-1 (one character per byte).
 */
export interface FilterSession {
  /** Called once, before connect, with the MTA's offer; returns what this session wants. */
  negotiate(offer: Capabilities): Capabilities | Promise<Capabilities>;
  connect?(info: ConnectionInfo, ctx: SessionContext): Reply | Promise<Reply>;
  helo?(name: string, ctx: SessionContext): Reply | Promise<Reply>;
  /** `sender` as the client sent it, usually in angle brackets ("<>" for bounces); ESMTP args after. */
  mail?(sender: string, args: readonly string[], ctx: SessionContext): Reply | Promise<Reply>;
  rcpt?(recipient: string, args: readonly string[], ctx: SessionContext): Reply | Promise<Reply>;
  data?(ctx: SessionContext): Reply | Promise<Reply>;
  header?(name: string, value: string, ctx: SessionContext): Reply | Promise<Reply>;
  endOfHeaders?(ctx: SessionContext): Reply | Promise<Reply>;
  /**
   * A chunk of the body: CRLF lines, dot-stuffing removed; chunks may split lines. The chunk is the
   * filter's to keep: callers (MilterServer, the chain) never reuse or change it after the call.
   */
  body?(chunk: Buffer, ctx: SessionContext): Reply | Promise<Reply>;
  endOfMessage?(ctx: SessionContext): EndOfMessageResult | Promise<EndOfMessageResult>;
  /** An SMTP command the MTA did not recognise; the MTA refuses it anyway, the reply picks the code. */
  unknown?(command: string, ctx: SessionContext): Reply | Promise<Reply>;
  /** The current message was abandoned (RSET, error, or the message ended). No reply. */
  abort?(ctx: SessionContext): void | Promise<void>;
  /** The SMTP connection ended. No reply. Called exactly once. */
  close?(): void | Promise<void>;
}

/** A filter: built in, remote (milter/client), or a chain of filters. Opens one session per connection. */
export interface Filter {
  readonly name: string;
  open(): FilterSession | Promise<FilterSession>;
  /**
   * True when a session would accept the connection at once without asking anyone (a chain with no
   * child and an accept fallback): an MTA may then open none, as Postfix with no smtpd_milters talks to
   * no milter. Read at each connection (a reload may change it).
   */
  readonly passThrough?: boolean;
  /** Releases what the filter holds for all sessions (database, connections); called once, after the last session. */
  close?(): void | Promise<void>;
}

export type { Change, EndOfMessageResult };
