// The tuple life cycle with an injected clock: first attempt, early retry, retry after the delay,
// autowhite period, its extension and expiry, pending timeout, subnetmatch, lazyaw.
import { describe, expect, test } from 'vitest';
import { DAY, deliver, HOUR, MINUTE, setup, smtp } from './harness.js';

const BASIC = `subnetmatch /24
greylist 10m
autowhite 1w
racl greylist default
`;
const mail = { client: '192.0.2.10', from: 'alice@example.com', to: 'bob@example.org' };

describe('greylist life cycle', () => {
  test('first attempt: 451 4.7.1 with the whole delay', async () => {
    const { filter } = setup(BASIC);
    const out = await deliver(filter, mail);
    expect(smtp(out.rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:10:00');
    expect(out.rcpt[0]?.status).toBe('tempfail');
    expect(out.eom).toBeUndefined();
  });

  test('retries before the delay: still tempfailed, with the remaining time going down', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(3 * MINUTE + 20_000);
    expect(smtp((await deliver(filter, mail)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:06:40');
    clock.advance(6 * MINUTE);
    expect(smtp((await deliver(filter, mail)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:00:40');
  });

  test('retry after 10 minutes: accepted, X-Greylist says how long it was delayed', async () => {
    const { filter, clock, store } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(10 * MINUTE + 2000);
    const out = await deliver(filter, mail);
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(out.eom?.reply.status).toBe('continue');
    expect(out.header).toMatch(/^Delayed for 00:10:02 by Mailgate greylist \(\S+\); Thu, 01 Jan 2026 12:10:02 \+0000 \(UTC\)$/);
    const entries = [];
    for await (const e of store.list()) entries.push(e);
    expect(entries).toMatchObject([{ kind: 'autowhite', address: '192.0.2.0/24', sender: 'alice@example.com', recipient: 'bob@example.org' }]);
  });

  test('auto-whitelisted for the autowhite period (1w), then greylisted again', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    await deliver(filter, mail); // becomes autowhite, expires in 1 week
    clock.advance(6 * DAY);
    const within = await deliver(filter, mail);
    expect(within.rcpt[0]?.status).toBe('continue');
    expect(within.header).toMatch(/^IP, sender and recipient auto-whitelisted, not delayed by Mailgate greylist/);
    clock.advance(7 * DAY + 1000); // 1 week after the last pass: expired
    expect(smtp((await deliver(filter, mail)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:10:00');
  });

  test('an autowhite entry that expires just after a purge no longer lets mail through', async () => {
    const { filter, clock, store } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    await deliver(filter, mail); // autowhite until now + 1 week
    const expires = clock.now() + 7 * DAY;
    clock.advance(7 * DAY - 1);
    await deliver(filter, { ...mail, to: 'other@example.org' }); // purges, a millisecond before the expiry
    await new Promise((r) => setTimeout(r, 10));
    expect(await store.count({ kind: 'autowhite' })).toBe(1);
    clock.advance(2); // one millisecond past the expiry, minutes before the next purge
    expect(clock.now()).toBe(expires + 1);
    expect(smtp((await deliver(filter, mail)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:10:00');
  });

  test('each pass extends the autowhite period', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    await deliver(filter, mail);
    for (let i = 0; i < 4; i++) {
      clock.advance(5 * DAY);
      expect((await deliver(filter, mail)).rcpt[0]?.status).toBe('continue');
    }
    // 20 days after whitelisting: still whitelisted because every pass restarted the week.
  });

  test('a pending entry is forgotten `timeout` after its accept time (default 5d)', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(10 * MINUTE + 5 * DAY + 1000);
    const out = await deliver(filter, mail);
    expect(smtp(out.rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back in 00:10:00');
  });

  test('timeout from greylist.conf', async () => {
    const { filter, clock } = setup(`${BASIC}timeout 1h\n`);
    await deliver(filter, mail);
    clock.advance(10 * MINUTE + HOUR - 1000);
    expect((await deliver(filter, mail)).rcpt[0]?.status).toBe('continue');
    const other = { ...mail, to: 'carol@example.org' };
    await deliver(filter, other);
    clock.advance(10 * MINUTE + HOUR + 1000);
    expect((await deliver(filter, other)).rcpt[0]?.status).toBe('tempfail');
  });

  test('subnetmatch /24: a retry from another host of the same /24 passes; another /24 does not', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    expect((await deliver(filter, { ...mail, client: '192.0.2.200' })).rcpt[0]?.status).toBe('continue');
    expect((await deliver(filter, { ...mail, client: '192.0.3.10' })).rcpt[0]?.status).toBe('tempfail');
  });

  test('default subnetmatch is /32 (milter-greylist): another host of the /24 is a new tuple', async () => {
    const { filter, clock } = setup('greylist 10m\nracl greylist default\n');
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    expect((await deliver(filter, { ...mail, client: '192.0.2.11' })).rcpt[0]?.status).toBe('tempfail');
    expect((await deliver(filter, mail)).rcpt[0]?.status).toBe('continue');
  });

  test('subnetmatch6 groups IPv6 clients', async () => {
    const { filter, clock } = setup('greylist 10m\nsubnetmatch6 /64\nracl greylist default\n');
    const v6 = { ...mail, client: '2001:db8:1:2::25' };
    await deliver(filter, v6);
    clock.advance(11 * MINUTE);
    expect((await deliver(filter, { ...v6, client: '2001:db8:1:2:ffff::1' })).rcpt[0]?.status).toBe('continue');
    expect((await deliver(filter, { ...v6, client: '2001:db8:1:3::25' })).rcpt[0]?.status).toBe('tempfail');
  });

  test('the sender is compared after its last "=" and case-insensitively (BATV/VERP retries)', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, { ...mail, from: 'prvs=1111=Alice@Example.com' });
    clock.advance(11 * MINUTE);
    expect((await deliver(filter, { ...mail, from: 'prvs=2222=alice@example.com' })).rcpt[0]?.status).toBe('continue');
  });

  test('lazyaw: once auto-whitelisted, the address passes for any sender and recipient', async () => {
    const { filter, clock } = setup(`${BASIC}lazyaw\n`);
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    await deliver(filter, mail);
    const other = await deliver(filter, { ...mail, from: 'zed@elsewhere.test', to: 'x@example.org' });
    expect(other.rcpt[0]?.status).toBe('continue');
    // without lazyaw the same is greylisted
    const strict = setup(BASIC);
    await deliver(strict.filter, mail);
    strict.clock.advance(11 * MINUTE);
    await deliver(strict.filter, mail);
    expect((await deliver(strict.filter, { ...mail, from: 'zed@elsewhere.test', to: 'x@example.org' })).rcpt[0]?.status).toBe('tempfail');
  });

  test('autowhite 0: a passed tuple is not remembered', async () => {
    const { filter, clock, store } = setup('greylist 10m\nautowhite 0\nracl greylist default\n');
    await deliver(filter, mail);
    clock.advance(11 * MINUTE);
    expect((await deliver(filter, mail)).rcpt[0]?.status).toBe('continue');
    expect(await store.count()).toBe(0);
    expect((await deliver(filter, mail)).rcpt[0]?.status).toBe('tempfail');
  });

  test('quiet: "please come back later"', async () => {
    const { filter } = setup(`${BASIC}quiet\n`);
    expect(smtp((await deliver(filter, mail)).rcpt[0])).toBe('451 4.7.1 Greylisting in action, please come back later');
  });

  test('several recipients: each tuple on its own; X-Greylist reports the longest delay', async () => {
    const { filter, clock } = setup(BASIC);
    await deliver(filter, { ...mail, to: ['a@example.org'] });
    clock.advance(5 * MINUTE);
    await deliver(filter, { ...mail, to: ['b@example.org'] });
    clock.advance(6 * MINUTE);
    const out = await deliver(filter, { ...mail, to: ['a@example.org', 'b@example.org'] });
    expect(out.rcpt.map((r) => r.status)).toEqual(['continue', 'tempfail']);
    expect(smtp(out.rcpt[1])).toBe('451 4.7.1 Greylisting in action, please come back in 00:04:00');
    expect(out.header).toMatch(/^Delayed for 00:11:00 by /);
  });

  test('expired entries are purged from the store as time goes by', async () => {
    const { filter, clock, store } = setup(BASIC);
    await deliver(filter, mail);
    clock.advance(6 * DAY);
    await deliver(filter, { ...mail, to: 'other@example.org' }); // triggers the purge
    await new Promise((r) => setTimeout(r, 10));
    expect(await store.count()).toBe(1);
  });

  test('non-IP (local) clients are never greylisted', async () => {
    const { filter } = setup(BASIC);
    const out = await deliver(filter, { ...mail, client: 'local' });
    expect(out.rcpt[0]?.status).toBe('continue');
    expect(out.header).toMatch(/^Message not sent from an IPv4 neither IPv6 address, not delayed by /);
  });
});
