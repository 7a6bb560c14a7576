/**
 * ENABLE (RFC 5161), in the authenticated state only (RFC 5161 §3.1). Answers `* ENABLED` with the
 * extensions among those named (ENABLEABLE in capabilities.ts) that were not on before this command;
 * unknown names are ignored, as the RFC says. QRESYNC turns CONDSTORE on too, without naming it (Dovecot:
 * `ENABLE QRESYNC` → `* ENABLED QRESYNC`; `ENABLE QRESYNC CONDSTORE` names both).
 */
import { command, ok } from '../command.js';
import { atom } from '../wire/encoder.js';
import { ENABLEABLE } from '../capabilities.js';

export const enable = command<string[]>({
  name: 'ENABLE',
  states: ['authenticated'],
  expungeSafe: true,
  parse(args) {
    const names: string[] = [];
    do {
      args.sp();
      names.push(args.atom('a capability name').toUpperCase());
    } while (!args.atEnd());
    return names;
  },
  run(session, names) {
    const before = new Set(session.enabled);
    const turned: string[] = [];
    for (const name of names) {
      if (!ENABLEABLE.has(name) || before.has(name) || turned.includes(name)) continue;
      session.enable(name);
      turned.push(name);
    }
    session.out.untagged([atom('ENABLED'), ...turned.map(atom)]);
    return Promise.resolve(ok('Enabled.'));
  },
});
