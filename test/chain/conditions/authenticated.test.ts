import { describe, expect, it } from 'vitest';
import { APPLY, STOP } from '../../../src/chain/condition.js';
import { createAuthenticated, createUnauthenticated, isAuthenticated } from '../../../src/chain/conditions/authenticated.js';
import { ctx, macros } from './helpers.js';

describe('Authenticated / Unauthenticated', () => {
  const authenticated = createAuthenticated();
  const unauthenticated = createUnauthenticated();

  it('act at MAIL only, under their milter-manager names', () => {
    expect(authenticated.name).toBe('Authenticated');
    expect(unauthenticated.name).toBe('Unauthenticated');
    expect([...authenticated.stages]).toEqual(['mail']);
    expect([...unauthenticated.stages]).toEqual(['mail']);
    expect(authenticated.check('connect', ctx())).toBe(APPLY);
    expect(unauthenticated.check('rcpt', ctx({ macros: { auth_type: 'PLAIN' } }))).toBe(APPLY);
  });

  it.each([
    [{}, false],
    [{ '{auth_type}': 'PLAIN' }, true],
    [{ auth_type: 'LOGIN' }, true],
    [{ '{auth_authen}': 'alice' }, true],
    [{ auth_authen: 'alice', auth_type: 'CRAM-MD5' }, true],
    [{ '{auth_author}': 'alice' }, false],
    [{ '{auth_type}': '' }, false],
    [{ '{auth_type}': '', '{auth_authen}': '' }, false],
    [{ '{auth_type}': '', '{auth_authen}': 'bob' }, true],
    [{ '{mail_addr}': 'alice@example.com' }, false],
  ])('%j → authenticated=%s', (values, expected) => {
    expect(isAuthenticated(macros(values))).toBe(expected);
    const c = ctx({ sender: '<alice@example.com>', macros: values });
    expect(authenticated.check('mail', c)).toBe(expected ? APPLY : STOP);
    expect(unauthenticated.check('mail', c)).toBe(expected ? STOP : APPLY);
  });
});
