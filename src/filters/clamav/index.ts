/**
 * The built-in `clamav` filter: clamav-milter in process. Scans each message with clamd's zINSTREAM
 * (unix or TCP, several addresses round-robin) and applies clamav-milter's OnInfected, OnFail,
 * AddHeader, RejectMsg, MaxFileSize, LocalNet and SkipAuthenticated.
 */
import { hostname } from 'node:os';
import type { ClamavOptions } from '../../config/builtins/clamav.js';
import { capabilitiesFor, type Wants } from '../../mail/capabilities.js';
import type { Action, Capabilities, Filter, FilterSession } from '../../mail/filter.js';
import type { EventStage } from '../../mail/stage.js';
import type { FilterContext } from '../context.js';
import { ClamdClient } from './client.js';
import { LocalNet } from './local-net.js';
import { clamavSession, type ClamavShared } from './session.js';
import { VersionCache } from './version-cache.js';

export { ClamdClient } from './client.js';

/** Only the stages and actions these options use (clamav-milter negotiates NOHELO and NOEOH too). */
export function clamavWants(options: ClamavOptions): Wants {
  const stages: EventStage[] = ['header', 'body', 'endOfMessage'];
  if (options.localNet.length > 0) stages.unshift('connect');
  if (options.skipAuthenticated !== undefined) stages.splice(stages.indexOf('header'), 0, 'mail');
  const actions: Action[] = [];
  if (options.addHeader !== 'no') actions.push('addHeader');
  if (options.addHeader === 'replace') actions.push('changeHeader');
  if (options.onInfected === 'quarantine') actions.push('quarantine');
  return {
    stages,
    actions,
    // Headers and body chunks always get continue: the MTA need not wait for those answers.
    noReply: ['header', 'body'],
    ...(options.skipAuthenticated !== undefined ? { macros: { mail: ['{auth_authen}'] } } : {}),
  };
}

export function createClamavFilter(name: string, options: ClamavOptions, ctx: FilterContext): Filter {
  const client = new ClamdClient(options.clamd, {
    timeouts: { connectMs: options.connectTimeout * 1000, readMs: options.readTimeout * 1000 },
    logger: ctx.logger,
    keepAlive: options.keepAlive,
  });
  const shared: ClamavShared = {
    options,
    client,
    versions: new VersionCache(() => client.version(), ctx.now, ctx.logger),
    localNet: new LocalNet(options.localNet),
    host: options.reportHostname ?? hostname(),
    logger: ctx.logger,
  };
  const wants = clamavWants(options);
  // The same offer object (MilterServer shares it) gets the same answer, as in defineFilter.
  const answers = new WeakMap<Capabilities, Capabilities>();
  return {
    name,
    open(): FilterSession {
      // The session needs the negotiated actions (quarantine, header changes), so negotiate is ours.
      let caps: Capabilities | undefined;
      const handlers = clamavSession(shared, () => caps);
      const negotiate = (offer: Capabilities): Capabilities => {
        caps = answers.get(offer);
        if (caps === undefined) answers.set(offer, (caps = capabilitiesFor(offer, wants)));
        return caps;
      };
      // Added to the handlers object rather than spread into a new one: this runs per SMTP session.
      return Object.assign(handlers, { negotiate });
    },
    close(): void {
      client.close();
    },
  };
}
