/** [[milter]]: the children, remote (connection_spec) or built in (builtin). */
import { BUILTIN_NAMES, builtinKeys, readBuiltinOptions, resolveBuiltinName, type BuiltinName, type BuiltinReadContext } from '../builtins/index.js';
import { didYouMean } from '../suggest.js';
import { DEFAULT_BUILTIN_TIMEOUTS, DEFAULT_MILTER, FALLBACK_STATUS_ALIASES, FALLBACK_STATUSES } from '../defaults.js';
import type { ConditionNames } from '../condition-names.js';
import type { ConfigError } from '../errors.js';
import { milterOriginKey } from '../origin.js';
import { resolveSpecPath } from '../paths.js';
import type { TableReader } from '../reader.js';
import type { MilterConfig, Timeouts } from '../schema.js';
import { checkConnectionSpec } from './manager.js';

export const MILTER_KEYS = [
  'name',
  'description',
  'connection_spec',
  'builtin',
  'enabled',
  'fallback_status',
  'evaluation_mode',
  'applicable_conditions',
  'connection_timeout',
  'writing_timeout',
  'reading_timeout',
  'end_of_message_timeout',
] as const;

/** TOML key → Timeouts field. */
export const TIMEOUT_KEYS = [
  ['connection_timeout', 'connection'],
  ['writing_timeout', 'writing'],
  ['reading_timeout', 'reading'],
  ['end_of_message_timeout', 'endOfMessage'],
] as const satisfies readonly (readonly [string, keyof Timeouts])[];

export function readMilters(tables: readonly TableReader[], conditions: ConditionNames, ctx: BuiltinReadContext): MilterConfig[] {
  const seen = new Map<string, TableReader>();
  return tables.map((r) => {
    r.nameByKey('milter');
    const milter = readMilter(r, conditions, ctx);
    const first = seen.get(milter.name);
    if (first !== undefined) {
      const where = first.ctx.locator.line(first.keyPath('name'));
      throw r.error('name', `duplicate milter name ${JSON.stringify(milter.name)} (first defined${where === undefined ? '' : ` on line ${where}`})`);
    }
    seen.set(milter.name, r);
    return milter;
  });
}

function readMilter(r: TableReader, conditions: ConditionNames, ctx: BuiltinReadContext): MilterConfig {
  const builtinName = checkBuiltinName(r);
  r.checkKeys(builtinName === undefined ? MILTER_KEYS : [...MILTER_KEYS, ...builtinKeys(builtinName)]);
  const name = r.requiredString('name');
  r.originPrefix = milterOriginKey(name);
  r.record('name');
  r.ctx.origins.set(milterOriginKey(name), r.ctx.originAt(r.path, true));

  const description = r.string('description');
  const spec = r.optionalNonEmptyString('connection_spec', 'a connection spec like unix:/PATH or inet:PORT@HOST');
  const builtin = r.optionalNonEmptyString('builtin', 'the name of a built-in filter');
  if (spec !== undefined && builtin !== undefined) {
    throw r.error('builtin', 'connection_spec and builtin are both set; a child is either remote (connection_spec) or built in (builtin)');
  }
  if (spec === undefined && builtin === undefined) {
    throw r.error(undefined, `milter ${JSON.stringify(name)} needs connection_spec (a remote milter) or builtin (a built-in filter)`);
  }
  if (spec !== undefined) checkConnectionSpec(spec, (msg) => r.error('connection_spec', msg));

  const defaults = builtinName === undefined ? DEFAULT_MILTER.timeouts : DEFAULT_BUILTIN_TIMEOUTS;
  const timeouts = Object.fromEntries(
    TIMEOUT_KEYS.map(([key, field]) => [field, r.seconds(key) ?? defaults[field]]),
  ) as unknown as Timeouts;

  const common = {
    name,
    ...(description === undefined ? {} : { description }),
    enabled: r.boolean('enabled') ?? DEFAULT_MILTER.enabled,
    fallbackStatus: r.oneOf('fallback_status', FALLBACK_STATUSES, FALLBACK_STATUS_ALIASES) ?? DEFAULT_MILTER.fallbackStatus,
    evaluationMode: r.boolean('evaluation_mode') ?? DEFAULT_MILTER.evaluationMode,
    applicableConditions: readApplicableConditions(r, conditions),
    timeouts,
  };
  if (spec !== undefined) return { ...common, connectionSpec: resolveSpecPath(ctx.baseDir, spec) };
  // checkBuiltinName accepted the same `builtin` that is set here (an alias resolved to its canonical name).
  return { ...common, ...builtinPart(builtinName as BuiltinName, r, ctx) } as MilterConfig;
}

/** The filter named by `builtin`, checked before the other keys so that its own keys are allowed. */
function checkBuiltinName(r: TableReader): BuiltinName | undefined {
  const v = r.data['builtin'];
  if (typeof v !== 'string' || v.length === 0) return undefined;
  const name = resolveBuiltinName(v);
  if (name !== undefined) return name;
  throw r.error('builtin', `${JSON.stringify(v)} is not a built-in filter (one of ${BUILTIN_NAMES.join(', ')})${didYouMean(v, BUILTIN_NAMES)}`);
}

function builtinPart<K extends BuiltinName>(builtin: K, r: TableReader, ctx: BuiltinReadContext) {
  const keys = builtinKeys(builtin);
  const optionsTable = Object.fromEntries(Object.entries(r.data).filter(([k]) => keys.includes(k)));
  return { builtin, options: readBuiltinOptions(builtin, r, ctx), optionsTable };
}

function readApplicableConditions(r: TableReader, conditions: ConditionNames): string[] {
  const seen = new Set<string>();
  const names =
    r.stringArray('applicable_conditions', (name, path) => {
      const canonical = conditions.resolve(name);
      if (canonical === undefined) throw r.ctx.error(path, conditions.unknown(name));
      if (seen.has(canonical)) throw r.ctx.error(path, `condition ${JSON.stringify(canonical)} is listed twice`);
      seen.add(canonical);
      return canonical;
    }) ?? [...DEFAULT_MILTER.applicableConditions];
  return names;
}

/** For callers that add milters from elsewhere (detection) and need the same checks. */
export function checkApplicableConditions(
  names: readonly string[],
  conditions: ConditionNames,
  fail: (message: string) => ConfigError,
): string[] {
  return names.map((name) => {
    const canonical = conditions.resolve(name);
    if (canonical === undefined) throw fail(conditions.unknown(name));
    return canonical;
  });
}
