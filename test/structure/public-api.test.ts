/**
 * The package's public API stays what it is: the runtime names of `mailgate`, `mailgate/milter` and
 * `mailgate/chain` (package.json "exports"), and the types of their main entry points (checked by tsc
 * in `npm run lint`). A name added to or dropped from an index fails here: change the list on purpose.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as root from '../../src/index.js';
import * as chain from '../../src/chain/index.js';
import * as milter from '../../src/milter/index.js';
import type { Change, ConnectionInfo, EndOfMessageResult, Filter, FilterSession, Reply, SessionContext, Wants } from '../../src/index.js';
import type { ClientSession, ConnectionSpec, MilterClientOptions, MilterCommand, MilterResponse, MilterServerOptions, Packet } from '../../src/milter/index.js';
import type { ChainEnvironment, ChainOptions, ChildDefinition, Condition, DnsResolver, FallbackStatus, LoadedConfig, MailgateConfig } from '../../src/chain/index.js';

const VOCABULARY = [
  'ACCEPT',
  'CONTINUE',
  'DISCARD',
  'FULL_OFFER',
  'NO_MACROS',
  'REJECT',
  'SKIP',
  'TEMPFAIL',
  'createLogger',
  'defineFilter',
  'reject',
  'silentLogger',
  'tempfail',
];

const MILTER = [
  'ActionFlag',
  'Command',
  'DEFAULT_TIMEOUTS',
  'FrameError',
  'MacroStore',
  'MilterClient',
  'MilterClientError',
  'MilterServer',
  'PROTOCOL_VERSION',
  'PacketDecoder',
  'PayloadError',
  'ProtocolFlag',
  'Response',
  'SocketSetupError',
  'SpecError',
  'decodeCommand',
  'decodeResponse',
  'encodeCommand',
  'encodeResponse',
  'formatConnectionSpec',
  'parseConnectionSpec',
];

const CHAIN = [
  'APPLY',
  'Chain',
  'ChainSetupError',
  'ConfigError',
  'ReloadableChain',
  'STOP',
  'chainFromConfig',
  'createBuiltinCondition',
  'createRegexCondition',
  'loadConfig',
  'parseConfig',
];

const names = (m: object) => Object.keys(m).sort();
const sorted = (...lists: string[][]) => lists.flat().sort();

describe('runtime names', () => {
  it('mailgate: the Filter vocabulary only', () => {
    expect(names(root)).toEqual(sorted(VOCABULARY));
  });

  it('mailgate/milter: server, client, codec entry points, the constants they use, and the vocabulary', () => {
    expect(names(milter)).toEqual(sorted(MILTER, VOCABULARY));
    for (const internal of ['readCString', 'splitStrings', 'NO_BIT', 'NR_BIT', 'encodePacket', 'negotiateAsFilter', 'HeaderList']) {
      expect(names(milter)).not.toContain(internal);
    }
  });

  it('mailgate/chain: the manager, its configuration entry points, conditions, and the vocabulary', () => {
    expect(names(chain)).toEqual(sorted(CHAIN, VOCABULARY));
  });

  it('the vocabulary is the same object everywhere', () => {
    expect(milter.defineFilter).toBe(root.defineFilter);
    expect(chain.CONTINUE).toBe(root.CONTINUE);
  });
});

describe('types of the main entry points', () => {
  it('filters', () => {
    expectTypeOf(root.defineFilter).parameters.toEqualTypeOf<[string, Wants, () => Omit<FilterSession, 'negotiate'>]>();
    expectTypeOf(root.defineFilter).returns.toEqualTypeOf<Filter>();
    expectTypeOf<Filter['open']>().returns.toEqualTypeOf<FilterSession | Promise<FilterSession>>();
    expectTypeOf<FilterSession['rcpt']>().toEqualTypeOf<((recipient: string, args: readonly string[], ctx: SessionContext) => Promise<Reply> | Reply) | undefined>();
    expectTypeOf<FilterSession['connect']>().parameter(0).toEqualTypeOf<ConnectionInfo>();
    expectTypeOf<NonNullable<FilterSession['endOfMessage']>>().returns.toEqualTypeOf<Promise<EndOfMessageResult> | EndOfMessageResult>();
    expectTypeOf<EndOfMessageResult['changes']>().toEqualTypeOf<readonly Change[]>();
    expectTypeOf(root.reject).returns.toEqualTypeOf<Reply>();
  });

  it('mailgate/milter', () => {
    expectTypeOf(milter.MilterServer).constructorParameters.toEqualTypeOf<[filter: Filter, options?: MilterServerOptions]>();
    expectTypeOf<milter.MilterServer['listen']>().toEqualTypeOf<(specText: string | ConnectionSpec) => Promise<ConnectionSpec>>();
    expectTypeOf<milter.MilterServer['close']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(milter.MilterClient).constructorParameters.toEqualTypeOf<[options: MilterClientOptions]>();
    expectTypeOf<milter.MilterClient>().toMatchTypeOf<Filter>();
    expectTypeOf<milter.MilterClient['open']>().returns.toEqualTypeOf<ClientSession>();
    expectTypeOf<ClientSession>().toMatchTypeOf<FilterSession>();
    expectTypeOf(milter.encodeCommand).toEqualTypeOf<(cmd: MilterCommand) => Buffer>();
    expectTypeOf(milter.decodeCommand).toEqualTypeOf<(packet: Packet) => MilterCommand>();
    expectTypeOf(milter.encodeResponse).toEqualTypeOf<(r: MilterResponse) => Buffer>();
    expectTypeOf(milter.decodeResponse).toEqualTypeOf<(packet: Packet) => MilterResponse>();
    expectTypeOf<milter.PacketDecoder['push']>().returns.toEqualTypeOf<Packet[]>();
    expectTypeOf(milter.parseConnectionSpec).toEqualTypeOf<(spec: string) => ConnectionSpec>();
    expectTypeOf<milter.MilterClientError['failure']>().toEqualTypeOf<milter.MilterFailure>();
  });

  it('mailgate/chain', () => {
    expectTypeOf(chain.Chain).constructorParameters.toEqualTypeOf<[children: readonly ChildDefinition[], options: ChainOptions]>();
    expectTypeOf<chain.Chain>().toMatchTypeOf<Filter>();
    expectTypeOf<ChildDefinition['filter']>().toEqualTypeOf<Filter>();
    expectTypeOf<ChildDefinition['conditions']>().toEqualTypeOf<readonly Condition[]>();
    expectTypeOf<FallbackStatus>().toEqualTypeOf<'accept' | 'tempfail' | 'reject' | 'discard'>();
    expectTypeOf(chain.ReloadableChain).constructorParameters.toEqualTypeOf<[current: chain.Chain]>();
    expectTypeOf<chain.ReloadableChain>().toMatchTypeOf<Filter>();
    expectTypeOf(chain.chainFromConfig).parameters.toEqualTypeOf<[config: MailgateConfig, logger: root.Logger, env?: chain.ChainEnvironment]>();
    expectTypeOf(chain.chainFromConfig).returns.toEqualTypeOf<chain.Chain>();
    // Every type a ChainEnvironment names is one a user can name too.
    expectTypeOf<ChainEnvironment['resolver']>().toEqualTypeOf<DnsResolver | undefined>();
    expectTypeOf<DnsResolver>().toEqualTypeOf<(name: string, rrtype: string) => Promise<unknown>>();
    expectTypeOf(chain.loadConfig).returns.toEqualTypeOf<LoadedConfig>();
  });
});
