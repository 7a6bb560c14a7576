/**
 * The public face of mail/: the Filter vocabulary a library user needs to write a filter or drive one
 * (the package root `mailgate` exports exactly this; `mailgate/milter` and `mailgate/chain` re-export
 * it). Internal code imports the specific files, never this index, so what is listed here is a choice
 * (test/structure/public-api.test.ts holds the list): helpers such as HeaderList or handledStages stay
 * internal.
 */
export { ACCEPT, CONTINUE, DISCARD, REJECT, SKIP, TEMPFAIL, reject, tempfail, type Reply, type Status } from './reply.js';
export type { EventStage, MacroStage } from './stage.js';
export type { AddressFamily, ConnectionInfo } from './connection.js';
export { NO_MACROS, type MacroRequest, type Macros } from './macros.js';
export type { Change, ChangeKind, EndOfMessageResult } from './changes.js';
export type { Action, Capabilities, Filter, FilterSession, MaxDataSize, SessionContext } from './filter.js';
export { FULL_OFFER, type Wants } from './capabilities.js';
export { defineFilter, type StageHandlers } from './define-filter.js';
export { createLogger, silentLogger, type Logger } from './logger.js';
