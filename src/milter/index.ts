/**
 * mailgate/milter: the public API of the milter library, both sides of the wire. What a user needs:
 * - MilterServer: serve a Filter to an MTA (Postfix, Sendmail) on a unix or inet socket;
 * - MilterClient: drive a remote milter as an MTA would (it is itself a Filter);
 * - the codec entry points: PacketDecoder (framing) and encode/decode of commands and responses,
 *   with the protocol's constants (Command, Response, ActionFlag, ProtocolFlag) their values use;
 * - connection specs, MacroStore, and the errors a caller may catch;
 * - the Filter vocabulary of mail/ (also the package root `mailgate`).
 * Internal code imports the specific files, never this index: the rest of milter/ (negotiation bits,
 * C-string helpers, socket-file steps...) is internal. test/structure/public-api.test.ts holds the list.
 */
export { MilterServer, type MilterServerOptions } from './server.js';
export { SocketSetupError, type SocketPermissions } from './socket-file.js';
export { MilterClient, type MilterClientOptions } from './client.js';
export type { ClientSession } from './client-session.js';
export { MilterClientError, type MilterFailure } from './client-errors.js';
export { DEFAULT_TIMEOUTS, type Timeouts } from './client-transport.js';
export { MacroStore } from './macro-store.js';
export { formatConnectionSpec, parseConnectionSpec, SpecError, type ConnectionSpec } from './spec.js';

export { FrameError, PacketDecoder, type Packet } from './packet.js';
export { PayloadError } from './text.js';
export { decodeCommand, encodeCommand, type CommandType, type ConnectFamily, type MilterCommand } from './commands.js';
export { decodeResponse, encodeResponse, type MilterResponse, type ResponseType } from './responses.js';
export { ActionFlag, Command, PROTOCOL_VERSION, ProtocolFlag, Response, type CommandCode, type ResponseCode } from './constants.js';

export * from '../mail/index.js';
