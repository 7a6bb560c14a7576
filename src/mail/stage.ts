/**
 * The stages of an SMTP session by name, one list for filters, the chain, the milter codec and the
 * SMTP server, so that a stage is spelled the same way everywhere.
 */
/** The events of one SMTP session, in the order an MTA reports them. */
export type EventStage =
  | 'connect'
  | 'helo'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'header'
  | 'endOfHeaders'
  | 'body'
  | 'endOfMessage'
  | 'unknown';

export const EVENT_STAGES: readonly EventStage[] = [
  'connect',
  'helo',
  'mail',
  'rcpt',
  'data',
  'header',
  'endOfHeaders',
  'body',
  'endOfMessage',
  'unknown',
];

/** Stages an MTA sends macros for (the milter macro-list stages plus unknown). */
export type MacroStage =
  | 'connect'
  | 'helo'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'endOfHeaders'
  | 'endOfMessage'
  | 'unknown';

export const MACRO_STAGES: readonly MacroStage[] = [
  'connect',
  'helo',
  'mail',
  'rcpt',
  'data',
  'endOfHeaders',
  'endOfMessage',
  'unknown',
];
