import { describe, expect, it } from 'vitest';
import {
  BUILTIN_CONDITION_NAMES,
  builtinConditionName,
  createBuiltinCondition,
  isBuiltinConditionName,
  levenshtein,
} from '../../../src/chain/conditions/index.js';
import { APPLY, STOP } from '../../../src/chain/condition.js';
import { connectCtx, ctx, inet } from './helpers.js';

describe('built-in condition registry', () => {
  it('lists the milter-manager names', () => {
    expect(BUILTIN_CONDITION_NAMES).toEqual(['S25R', 'Remote Network', 'Authenticated', 'Unauthenticated', 'Trust', 'Stress Notify', 'No Stress']);
  });

  it.each(BUILTIN_CONDITION_NAMES.map((n) => [n]))('creates %s under that name, in any letter case', (name) => {
    for (const spelling of [name, name.toLowerCase(), name.toUpperCase()]) {
      const c = createBuiltinCondition(spelling, {});
      expect(c.name).toBe(name);
      expect(c.description.length).toBeGreaterThan(0);
      expect(c.stages.size).toBeGreaterThan(0);
      expect(isBuiltinConditionName(spelling)).toBe(true);
      expect(builtinConditionName(spelling)).toBe(name);
    }
  });

  it('creates a fresh condition each time', () => {
    expect(createBuiltinCondition('Trust', {})).not.toBe(createBuiltinCondition('Trust', {}));
  });

  it('passes the options on', () => {
    const s25r = createBuiltinCondition('S25R', { s25r: { whitelist: ['dhcp1.example.com'] } });
    expect(s25r.check('connect', connectCtx(inet('192.0.2.1', 'dhcp1.example.com')))).toBe(STOP);
    const remote = createBuiltinCondition('remote network', { remoteNetwork: { localAddresses: ['192.0.2.0/24'] } });
    expect(remote.check('connect', connectCtx(inet('192.0.2.1')))).toBe(STOP);
    const trust = createBuiltinCondition('Trust', { trust: { domains: ['example.org'], replaceDefaults: true } });
    expect(trust.check('mail', ctx({ sender: '<a@gmail.com>' }))).toBe(APPLY);
    expect(trust.check('mail', ctx({ sender: '<a@example.org>' })).macros).toEqual({ '{trusted_domain}': 'yes' });
    const noStress = createBuiltinCondition('No Stress', { stressThreshold: 5 });
    expect(noStress.check('connect', ctx({ concurrentSessions: 5 }))).toBe(STOP);
    expect(createBuiltinCondition('Stress Notify', { stressThreshold: 2 }).check('connect', ctx({ concurrentSessions: 2 })).macros).toEqual({
      '{stress}': 'yes',
    });
  });

  it('is never stressed without a threshold', () => {
    expect(createBuiltinCondition('No Stress', {}).check('connect', ctx({ concurrentSessions: 1e6 }))).toBe(APPLY);
    expect(createBuiltinCondition('Stress Notify', {}).check('connect', ctx({ concurrentSessions: 1e6 }))).toBe(APPLY);
  });

  it.each([
    ['remote_network', 'Remote Network'],
    ['Remote-Network', 'Remote Network'],
    ['RemoteNetwork', 'Remote Network'],
    ['no_stress', 'No Stress'],
    ['S25', 'S25R'],
    ['s52r', 'S25R'],
    ['Authenticate', 'Authenticated'],
    ['unauthenticate', 'Unauthenticated'],
    ['Trusted', 'Trust'],
    ['stress notify ', 'Stress Notify'],
  ])('suggests a near miss: %j → %s', (name, suggestion) => {
    expect(isBuiltinConditionName(name)).toBe(false);
    expect(() => createBuiltinCondition(name, {})).toThrow(
      `unknown condition "${name}"; known: S25R, Remote Network, Authenticated, Unauthenticated, Trust, Stress Notify, No Stress; did you mean "${suggestion}"?`,
    );
  });

  it.each(['Greylist', 'DNSBL Listed', '', 'Sendmail Compatible'])('lists the known names without a guess for %j', (name) => {
    let message = '';
    try {
      createBuiltinCondition(name, {});
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(`unknown condition "${name}"; known: S25R, Remote Network, Authenticated, Unauthenticated, Trust, Stress Notify, No Stress`);
  });

  it('passes option errors through', () => {
    expect(() => createBuiltinCondition('Remote Network', { remoteNetwork: { localAddresses: ['nope'] } })).toThrow(/invalid address or CIDR "nope"/);
    expect(() => createBuiltinCondition('No Stress', { stressThreshold: -1 })).toThrow(/threshold/);
  });

  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['s25r', 's52r', 2],
    ['flaw', 'lawn', 2],
  ])('levenshtein(%j, %j) = %d', (a, b, d) => {
    expect(levenshtein(a, b)).toBe(d);
    expect(levenshtein(b, a)).toBe(d);
  });
});
