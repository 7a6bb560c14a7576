import { describe, expect, it } from 'vitest';
import { formatConnectionSpec, parseConnectionSpec, SpecError, type ConnectionSpec } from '../../src/milter/spec.js';

describe('parseConnectionSpec', () => {
  it.each<[string, ConnectionSpec]>([
    ['unix:/p', { type: 'unix', path: '/p' }],
    ['unix:/var/run/milter/sock', { type: 'unix', path: '/var/run/milter/sock' }],
    ['local:/p', { type: 'unix', path: '/p' }],
    ['unix:relative.sock', { type: 'unix', path: 'relative.sock' }],
    ['UNIX:/p', { type: 'unix', path: '/p' }],
    ['unix:/with:colon@at', { type: 'unix', path: '/with:colon@at' }],
    ['inet:10025', { type: 'inet', port: 10025, host: '0.0.0.0', family: 4 }],
    ['inet:0', { type: 'inet', port: 0, host: '0.0.0.0', family: 4 }],
    ['inet:65535', { type: 'inet', port: 65535, host: '0.0.0.0', family: 4 }],
    ['inet:10025@localhost', { type: 'inet', port: 10025, host: 'localhost', family: 4 }],
    ['inet:10025@127.0.0.1', { type: 'inet', port: 10025, host: '127.0.0.1', family: 4 }],
    ['inet:10025@[127.0.0.1]', { type: 'inet', port: 10025, host: '127.0.0.1', family: 4 }],
    ['inet:10025@mail.example.com', { type: 'inet', port: 10025, host: 'mail.example.com', family: 4 }],
    ['inet:10025@[::1]', { type: 'inet', port: 10025, host: '::1', family: 6 }],
    ['inet6:10025', { type: 'inet', port: 10025, host: '::', family: 6 }],
    ['inet6:10025@[::1]', { type: 'inet', port: 10025, host: '::1', family: 6 }],
    ['inet6:10025@::1', { type: 'inet', port: 10025, host: '::1', family: 6 }],
    ['inet6:10025@localhost', { type: 'inet', port: 10025, host: 'localhost', family: 6 }],
    ['INET:25@[10.0.0.1]', { type: 'inet', port: 25, host: '10.0.0.1', family: 4 }],
    // Postfix's spelling (smtpd_milters), as copied from main.cf
    ['inet:127.0.0.1:10025', { type: 'inet', port: 10025, host: '127.0.0.1', family: 4 }],
    ['inet:localhost:10025', { type: 'inet', port: 10025, host: 'localhost', family: 4 }],
    ['inet:[::1]:10025', { type: 'inet', port: 10025, host: '::1', family: 6 }],
    ['inet:[127.0.0.1]:10025', { type: 'inet', port: 10025, host: '127.0.0.1', family: 4 }],
    ['inet6:[::1]:10025', { type: 'inet', port: 10025, host: '::1', family: 6 }],
  ])('%s', (text, spec) => {
    expect(parseConnectionSpec(text)).toEqual(spec);
  });

  it.each([
    ['no scheme', '/var/run/sock'],
    ['no scheme, port only', '10025'],
    ['unknown scheme', 'tcp:10025'],
    ['empty unix path', 'unix:'],
    ['empty local path', 'local:'],
    ['empty port', 'inet:'],
    ['empty port with host', 'inet:@localhost'],
    ['port not a number', 'inet:smtp@localhost'],
    ['port too large', 'inet:65536'],
    ['port of six digits', 'inet:100250'],
    ['negative port', 'inet:-1'],
    ['IPv4 address for inet6', 'inet6:10025@127.0.0.1'],
    ['IPv4 address in brackets for inet6', 'inet6:10025@[127.0.0.1]'],
    ['unbalanced bracket', 'inet:10025@[::1'],
    ['space in host', 'inet:10025@local host'],
    ['empty host after @', 'inet:10025@'],
    ['empty brackets', 'inet:10025@[]'],
    ['Postfix form, port not a number', 'inet:127.0.0.1:smtp'],
    ['Postfix form, port too large', 'inet:127.0.0.1:65536'],
    ['Postfix form, empty host', 'inet::10025'],
    ['Postfix form, IPv6 without brackets', 'inet:::1:10025'],
    ['Postfix form, IPv4 for inet6', 'inet6:127.0.0.1:10025'],
  ])('%s (%s) is a SpecError', (_what, text) => {
    expect(() => parseConnectionSpec(text)).toThrow(SpecError);
  });

  it('errors name the spec', () => {
    expect(() => parseConnectionSpec('tcp:1')).toThrow(/"tcp:1"/);
  });

  it('errors name every accepted form, milter\'s and Postfix\'s', () => {
    for (const bad of ['tcp:1', 'inet:smtp@localhost', 'inet:127.0.0.1:smtp', 'nowhere']) {
      expect(() => parseConnectionSpec(bad)).toThrow(/inet:PORT@HOST.*inet:HOST:PORT or inet:\[ADDR\]:PORT \(Postfix\)/);
    }
  });
});

describe('formatConnectionSpec', () => {
  it('formats unix and inet specs with the host in brackets', () => {
    expect(formatConnectionSpec({ type: 'unix', path: '/p' })).toBe('unix:/p');
    expect(formatConnectionSpec({ type: 'inet', port: 25, host: '127.0.0.1', family: 4 })).toBe('inet:25@[127.0.0.1]');
    expect(formatConnectionSpec({ type: 'inet', port: 25, host: '::1', family: 6 })).toBe('inet6:25@[::1]');
  });

  it('parse ∘ format is the identity', () => {
    for (const text of ['unix:/p', 'inet:10025', 'inet:10025@localhost', 'inet:1@[::1]', 'inet6:10025@[::1]', 'inet6:7@[fe80::1]']) {
      const spec = parseConnectionSpec(text);
      expect(parseConnectionSpec(formatConnectionSpec(spec))).toEqual(spec);
    }
  });
});
