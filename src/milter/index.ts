/** mailgate/milter: the Sendmail/Postfix milter protocol, both sides of the wire. */
export * from './constants.js';
export * from './packet.js';
export * from './text.js';
export * from './commands.js';
export * from './responses.js';
export * from './negotiation.js';
export * from './reply-code.js';
export * from './macro-store.js';
export * from './spec.js';
export * from './socket-file.js';
export { MilterServer, type MilterServerOptions } from './server.js';
export { MilterClient, type MilterClientOptions } from './client.js';
export { ClientSession } from './client-session.js';
export { MilterClientError, type MilterFailure } from './client-errors.js';
export { DEFAULT_TIMEOUTS, type Timeouts } from './client-transport.js';
export * from '../mail/index.js';
