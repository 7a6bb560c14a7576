/**
 * The message editor: applies a filter's (or a chain's) end-of-message changes to a Message, with
 * the milter protocol's rules, as Postfix's cleanup applies them before the queue file is written.
 * The manager applies each child's changes with it; the SMTP server applies the chain's.
 */
import type { Change } from './changes.js';
import { bareAddress, esmtpArgs } from './envelope.js';
import type { Message } from './message.js';

export interface ApplyOptions {
  /**
   * Header values in the changes are as they follow the colon (the filter negotiated leadingSpace).
   * Default false, the milter default: the editor puts the one space after the colon itself.
   */
  readonly leadingSpace?: boolean;
}

/**
 * Applies `changes` in order:
 * - addHeader appends; insertHeader inserts at a 0-based index over all fields, the MTA's hidden
 *   Received counted (0 is above it, as in Postfix); past the end appends;
 * - changeHeader changes the index-th (1-based) field of that name, case-insensitively, the hidden
 *   Received not counted; an empty value deletes it; a missing occurrence is added; deleteHeader is
 *   a change to the empty value (HeaderList holds the rules);
 * - replaceBody replaces the whole body; changeSender replaces sender and its ESMTP args;
 * - addRecipient appends a recipient; deleteRecipient removes every recipient with that address
 *   (angle brackets aside, compared exactly, as Postfix does);
 * - quarantine records its reason (the last one wins).
 */
export async function applyChanges(message: Message, changes: readonly Change[], options: ApplyOptions = {}): Promise<void> {
  const leadingSpace = options.leadingSpace ?? false;
  for (const c of changes) {
    const header = !leadingSpace && (c.kind === 'addHeader' || c.kind === 'insertHeader' || c.kind === 'changeHeader') && c.value !== '' ? { ...c, value: ` ${c.value}` } : c;
    if (message.headers.applyChange(header)) continue;
    switch (c.kind) {
      case 'replaceBody':
        await message.body.replace(c.body);
        break;
      case 'addRecipient':
        message.envelope.recipients.push({ address: c.recipient, args: esmtpArgs(c.args) });
        break;
      case 'deleteRecipient': {
        const gone = bareAddress(c.recipient);
        message.envelope.recipients = message.envelope.recipients.filter((r) => bareAddress(r.address) !== gone);
        break;
      }
      case 'changeSender':
        message.envelope.sender = c.sender;
        message.envelope.senderArgs = esmtpArgs(c.args);
        break;
      case 'quarantine':
        message.quarantine = c.reason;
        break;
      default:
        break;
    }
  }
}
