import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState, initialState, type MessageState } from '../../src/queue/state.js';
import type { Envelope } from '../../src/queue/queue-file.js';

const env: Envelope = {
  id: '0123456789ABC',
  sender: 'a@example.com',
  recipients: [
    { address: 'b@example.org', original: 'b@example.org' },
    { address: 'c@example.org', original: 'c@example.org' },
  ],
  client: '[127.0.0.1]',
  arrival: 1000,
};

const rstate = fc.record(
  {
    status: fc.constantFrom('pending' as const, 'delivered' as const, 'failed' as const),
    attempts: fc.nat(),
    next: fc.nat(),
    notified: fc.boolean(),
    enhanced: fc.string(),
    diagnostic: fc.string(),
    remoteReply: fc.string(),
    relay: fc.string(),
    expired: fc.constant(true),
  },
  { requiredKeys: ['status', 'attempts', 'next', 'notified'] },
);

describe('state file codec', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(fc.tuple(rstate, rstate), fc.boolean(), (recipients, warned) => {
        const state: MessageState = { recipients, warned };
        expect(decodeState(encodeState(state), env)).toEqual(state);
      }),
    );
  });

  it('gives undefined (start over from the envelope), never a throw, for anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array().map((b) => Buffer.from(b)), fc.json().map((j) => Buffer.from(j))), (buf) => {
        const st = decodeState(buf, env);
        if (st !== undefined) expect(st.recipients).toHaveLength(2);
      }),
      { numRuns: 3000 },
    );
    expect(decodeState(encodeState(initialState({ ...env, recipients: [env.recipients[0]!] })), env)).toBeUndefined();
  });
});
