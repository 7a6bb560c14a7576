import { describe, expect, it } from 'vitest';
import { FULL_OFFER } from '../../src/mail/capabilities.js';
import { defineFilter, handledStages } from '../../src/mail/define-filter.js';
import { CONTINUE } from '../../src/mail/reply.js';
import { EVENT_STAGES } from '../../src/mail/stage.js';

describe('defineFilter negotiation', () => {
  it('asks only for the stages it has handlers for, as libmilter does, plus end of message', async () => {
    const filter = defineFilter('rcpt-only', {}, () => ({ rcpt: () => CONTINUE }));
    const session = await filter.open();
    const caps = await session.negotiate(FULL_OFFER);
    expect([...caps.stages].sort()).toEqual(['endOfMessage', 'rcpt']);
  });

  it('keeps the stages it was told to ask for', async () => {
    const filter = defineFilter('all', { stages: EVENT_STAGES }, () => ({}));
    const caps = await (await filter.open()).negotiate(FULL_OFFER);
    expect([...caps.stages].sort()).toEqual([...EVENT_STAGES].sort());
  });

  it('sees handlers on a class prototype', () => {
    class Handlers {
      helo(): typeof CONTINUE {
        return CONTINUE;
      }
    }
    expect(handledStages(new Handlers())).toEqual(['helo', 'endOfMessage']);
  });
});
