/**
 * The built-in `greylist` filter: milter-greylist's behaviour and configuration syntax, with its
 * state in a GreylistStore (SQLite by default, Redis to share it between MX hosts, or memory).
 */
import type { GreylistOptions } from '../../config/builtins/greylist.js';
import { defineFilter } from '../../mail/define-filter.js';
import type { Filter } from '../../mail/filter.js';
import type { EventStage } from '../../mail/stage.js';
import { openGreylistStore } from '../../store/greylist/open.js';
import type { GreylistStore } from '../../store/greylist/store.js';
import type { FilterContext } from '../context.js';
import { AclEngine } from './acl.js';
import type { Clause, GreylistConf } from './conf/ast.js';
import { parseGreylistOptions } from './options.js';
import { greylistSession } from './session.js';
import { greylistStoreOptions } from './store-options.js';

export { parseGreylistOptions };

/** How often expired entries are purged, in the filter's clock (milter-greylist's dumpfreq). */
const PURGE_EVERY_MS = 10 * 60 * 1000;

export interface GreylistFilterOverrides {
  /** Use this store instead of opening the configured one (tests). */
  readonly store?: GreylistStore;
}

export function createGreylistFilter(name: string, options: GreylistOptions, ctx: FilterContext, overrides: GreylistFilterOverrides = {}): Filter {
  const conf = parseGreylistOptions(options);
  for (const note of conf.notes) ctx.logger.info({ line: note.line + options.conf.lineOffset }, `greylist.conf: ${note.text}`);
  const engine = new AclEngine(conf);
  const store = overrides.store ?? openGreylistStore(greylistStoreOptions(options, ctx.dataDir, ctx.now));

  let lastPurge = ctx.now();
  let purging = false;
  const maybePurge = (): void => {
    const t = ctx.now();
    // Redis expires tuples itself (each key's TTL is its expiry); a purge would scan them all.
    if (purging || options.store === 'redis' || t - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = t;
    purging = true;
    store
      .purgeExpired(t)
      .then((n) => n > 0 && ctx.logger.debug({ purged: n }, 'greylist: expired entries purged'))
      .catch((err: Error) => ctx.logger.warn({ err: err.message }, 'greylist: purging expired entries failed'))
      .finally(() => (purging = false));
  };

  const collectsMessage = needsMessage(conf);
  const stages: EventStage[] = ['connect', 'helo', 'mail', 'rcpt', 'endOfMessage'];
  if (conf.flags.delayedreject) stages.push('data');
  if (collectsMessage) stages.push('header', 'body');
  const filter = defineFilter(name, { stages, actions: ['addHeader'] }, () =>
    greylistSession({ conf, engine, store, spf: ctx.spf, now: ctx.now, logger: ctx.logger, collectsMessage, maybePurge }),
  );
  return { ...filter, close: () => store.close() };
}

/** Whether a dacl looks at the message itself (header, body, msgsize). */
function needsMessage(conf: GreylistConf): boolean {
  const uses = (c: Clause): boolean => (c.kind === 'not' ? uses(c.clause) : c.kind === 'header' || c.kind === 'body' || c.kind === 'msgsize');
  return conf.acls.some((a) => a.stage === 'data' && a.clauses.some(uses));
}
