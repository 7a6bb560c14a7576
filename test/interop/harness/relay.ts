// One message end to end: swaks → Postfix (→ milter) → smtp-sink. Throws with
// the transcript / maillog / sink content when any hop fails, so a test's
// failure message says which hop it was.
import type { Postfix } from './postfix.js';
import { sendWithSwaks, queueIdOf } from './swaks.js';
import { describeResult, type CommandResult } from './process.js';

export interface Relayed {
  sent: CommandResult;
  queueId: string;
  /** The sink's dump of the delivered message (smtp-sink records + headers + body). */
  message: string;
}

export async function relayOne(pf: Postfix, subject: string): Promise<Relayed> {
  if (!pf.sink) throw new Error('relayOne needs a Postfix started with its own smtp-sink');
  const sent = await sendWithSwaks({
    port: pf.port,
    from: 'sender@example.com',
    to: 'rcpt@example.org',
    headers: [`Subject: ${subject}`],
    body: 'hello from the interop tests',
  });
  const queueId = queueIdOf(sent.stdout);
  if (sent.exitCode !== 0 || queueId === undefined) {
    throw new Error(`Postfix did not accept the message: swaks ${describeResult(sent)}\n--- maillog ---\n${await pf.log()}`);
  }
  await pf.waitForLog(new RegExp(`${queueId}: to=<rcpt@example\\.org>.*status=sent`));
  const messages = await pf.sink.waitForMessages(1);
  const message = messages.find((m) => m.includes(`Subject: ${subject}`));
  if (message === undefined) {
    throw new Error(`smtp-sink has no message with Subject: ${subject}\n${messages.join('\n=====\n')}`);
  }
  return { sent, queueId, message };
}
