/**
 * createSmtpServer is what `mailgate start` plugs into ServiceFactories (src/cli/start-services.ts): this
 * file does not compile if the two drift apart.
 */
import { expect, it } from 'vitest';
import type { ServiceFactories } from '../../src/cli/start-services.js';
import { createSmtpServer } from '../../src/smtp/server.js';

it('fits ServiceFactories.createSmtpServer as it is', () => {
  const factory: ServiceFactories['createSmtpServer'] = createSmtpServer;
  expect(typeof factory).toBe('function');
});
