/**
 * bench:smtp's reference MTA: a private Postfix (test/interop/harness/postfix.ts) with no milter,
 * relaying everything to the counting smtp-sink, with Postfix's default durability (cleanup fsyncs the
 * queue file before smtpd answers 250). Loopback is in mynetworks, so smtp-source may relay.
 */
import { startPostfix } from '../../test/interop/harness/postfix.js';
import type { SmtpSink } from '../../test/interop/harness/smtp-sink.js';
import type { MtaUnderTest } from './measure.js';

export async function startReferencePostfix(sink: SmtpSink): Promise<MtaUnderTest> {
  // No extra parameters: Postfix's defaults (mynetworks exempts loopback from the anvil limits).
  const pf = await startPostfix({ milterSpec: '', relayPort: sink.port });
  return { name: 'postfix', port: pf.port, delivered: () => sink.count(), stop: () => pf.stop() };
}
