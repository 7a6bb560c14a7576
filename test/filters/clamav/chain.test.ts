/**
 * `builtin = "clamav"` through the whole configuration path: parseConfig → chainFromConfig → a chain
 * session as the MTA drives it, against a real clamd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import type { Chain } from '../../../src/chain/chain.js';
import { parseConfig } from '../../../src/config/load.js';
import { FULL_OFFER } from '../../../src/mail/capabilities.js';
import { Command } from '../../../src/milter/constants.js';
import { EICAR, EICAR_VIRUS_NAME, startClamd, type Clamd } from '../../interop/harness/clamd.js';
import { setupGuard } from '../../interop/harness/setup-guard.js';
import { Teardown } from '../../interop/harness/teardown.js';
import { context } from '../../milter/helpers.js';
import { recordingLogger } from './drive.js';

async function session(chain: Chain, headers: Array<[string, string]>, body: string) {
  const s = chain.open();
  const ctx = context();
  await s.negotiate(FULL_OFFER);
  ctx.store.set(Command.CONNECT, [['j', 'mx.example.org']]);
  const connect = await s.connect({ hostname: 'client.example.com', family: 'inet', address: '198.51.100.7', port: 1 }, ctx);
  await s.helo('client.example.com', ctx);
  await s.mail('<a@example.com>', [], ctx);
  await s.rcpt('<b@example.org>', [], ctx);
  await s.data(ctx);
  for (const [n, v] of headers) await s.header(n, v, ctx);
  await s.endOfHeaders(ctx);
  await s.body(Buffer.from(body), ctx);
  const eom = await s.endOfMessage(ctx);
  await s.close();
  return { connect, eom };
}

describe('[[milter]] builtin = "clamav" through the chain', { timeout: 60_000 }, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let clamd: Clamd;
  let chain: Chain;
  beforeAll(() =>
    setup.run(async () => {
      clamd = td.add(await startClamd());
      const toml = `
[[milter]]
name = "clamav"
builtin = "clamav"
clamd = ["unix:${clamd.socketPath}"]
on_infected = "reject"
reject_msg = "Virus found: %v"
add_header = "replace"
report_hostname = "mx.test"
`;
      chain = chainFromConfig(parseConfig(toml, 'mailgate.toml').config, recordingLogger().logger);
      td.defer(async () => chain.dispose());
    }),
  );
  afterAll(() => td.run());

  it('clean mail: the MTA gets X-Virus-Status: Clean, and a forged one is replaced', async () => {
    setup.check();
    const { eom } = await session(chain, [['Subject', ' hi'], ['X-Virus-Status', ' Infected (forged)']], 'hello\r\n');
    expect(eom.reply.status).toBe('continue');
    expect(eom.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'X-Virus-Scanned', value: expect.stringMatching(/ClamAV 1\.4\.6 at mx\.test$/) }),
        expect.objectContaining({ name: 'X-Virus-Status', value: expect.stringMatching(/Clean$/) }),
      ]),
    );
    expect(JSON.stringify(eom.changes)).not.toContain('forged');
  });

  it('EICAR: 550 5.7.1 Virus found: NAME', async () => {
    setup.check();
    const { eom } = await session(chain, [['Subject', ' eicar']], `${EICAR}\r\n`);
    expect(eom.reply).toEqual({ status: 'reject', code: 550, enhancedCode: '5.7.1', text: `Virus found: ${EICAR_VIRUS_NAME}` });
  });
});
