/** Turns a filter's end-of-message changes into milter responses, within the negotiated actions. */
import type { Change } from '../mail/changes.js';
import type { Action } from '../mail/filter.js';
import type { Logger } from '../mail/logger.js';
import { CHUNK_SIZE } from './constants.js';
import type { MilterResponse } from './responses.js';

function neededAction(change: Change): Action {
  switch (change.kind) {
    case 'addHeader':
    case 'insertHeader':
      return 'addHeader';
    case 'changeHeader':
    case 'deleteHeader':
      return 'changeHeader';
    case 'replaceBody':
      return 'changeBody';
    case 'addRecipient':
      return change.args ? 'addRecipientWithArgs' : 'addRecipient';
    case 'deleteRecipient':
      return 'deleteRecipient';
    case 'changeSender':
      return 'changeSender';
    case 'quarantine':
      return 'quarantine';
  }
}

/** Header values are folded with a bare LF: a CRLF would reach the queue file as CR CR LF (Postfix). */
function headerValue(value: string): string {
  return value.includes('\r') ? value.replace(/\r\n/g, '\n').replace(/\r/g, '') : value;
}

/**
 * Responses for the changes, in order. A change the filter did not negotiate is dropped with a log
 * line (sending it would make the MTA fail the whole message).
 */
export function responsesForChanges(
  changes: readonly Change[],
  allowed: ReadonlySet<Action>,
  maxChunk: number,
  logger: Logger,
): MilterResponse[] {
  const out: MilterResponse[] = [];
  for (const change of changes) {
    const need = neededAction(change);
    if (!allowed.has(need)) {
      // A recipient with args may still go out without them if plain ADDRCPT was negotiated.
      if (change.kind === 'addRecipient' && allowed.has('addRecipient')) {
        logger.warn({ recipient: change.recipient }, 'addRecipient args dropped: addRecipientWithArgs not negotiated');
        out.push({ type: 'addRecipient', recipient: change.recipient });
        continue;
      }
      logger.warn({ change: change.kind, action: need }, `filter change ${change.kind} dropped: action ${need} not negotiated`);
      continue;
    }
    switch (change.kind) {
      case 'addHeader':
        out.push({ type: 'addHeader', name: change.name, value: headerValue(change.value) });
        break;
      case 'insertHeader':
        out.push({ type: 'insertHeader', index: change.index, name: change.name, value: headerValue(change.value) });
        break;
      case 'changeHeader':
        out.push({ type: 'changeHeader', index: change.index, name: change.name, value: headerValue(change.value) });
        break;
      case 'deleteHeader':
        out.push({ type: 'changeHeader', index: change.index, name: change.name, value: '' });
        break;
      case 'replaceBody': {
        const size = Math.min(maxChunk, CHUNK_SIZE);
        if (change.body.length === 0) out.push({ type: 'replaceBody', chunk: change.body });
        for (let i = 0; i < change.body.length; i += size) {
          out.push({ type: 'replaceBody', chunk: change.body.subarray(i, i + size) });
        }
        break;
      }
      case 'addRecipient':
        out.push(
          change.args
            ? { type: 'addRecipientPar', recipient: change.recipient, args: change.args }
            : { type: 'addRecipient', recipient: change.recipient },
        );
        break;
      case 'deleteRecipient':
        out.push({ type: 'deleteRecipient', recipient: change.recipient });
        break;
      case 'changeSender':
        out.push({ type: 'changeSender', sender: change.sender, args: change.args ?? '' });
        break;
      case 'quarantine':
        out.push({ type: 'quarantine', reason: change.reason });
        break;
    }
  }
  return out;
}
