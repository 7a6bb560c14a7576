/** Chain tests: a session taken through the envelope (negotiate … DATA) as an MTA does, for tests about the message. */
import type { ChainSession } from '../../src/chain/chain-session.js';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import type { context } from '../milter/helpers.js';

/** Negotiate, connect, HELO, one MAIL and RCPT, DATA; the session then expects the message. */
export async function throughEnvelope(s: ChainSession, ctx: ReturnType<typeof context>): Promise<void> {
  await s.negotiate(FULL_OFFER);
  await s.connect({ hostname: 'client.example.com', family: 'inet', address: '192.0.2.1', port: 1 }, ctx);
  await s.helo('client.example.com', ctx);
  await s.mail('<a@example.com>', [], ctx);
  await s.rcpt('<b@example.org>', [], ctx);
  await s.data(ctx);
}
