/**
 * Typed reading of one TOML table with errors that name the file, line and key, and origin recording:
 * every value read records where it came from (`FILE:LINE` when present, 'default' when absent).
 */
import { TomlDate } from 'smol-toml';
import { ConfigError } from './errors.js';
import { childPath, indexPath } from './key-path.js';
import type { TomlLocator } from './locate.js';
import { fileOrigin, type Origin } from './origin.js';
import { didYouMean } from './suggest.js';
import { MAX_TIMER_MS, MAX_TIMER_SECONDS } from './timer-limit.js';

export type TomlTable = Record<string, unknown>;

/** What every reader of one document shares. */
export class ReadContext {
  readonly origins = new Map<string, Origin>();
  /** Things that work but should be changed (a deprecated key), each `FILE:LINE: key: why`. */
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    readonly locator: TomlLocator,
  ) {}

  /** Array tables known by name: `milter[1]` → `milter "clamav"`. */
  private readonly names = new Map<string, string>();

  /** From now on, `path` (an array table, e.g. `milter[1]`) is called `label` in messages. */
  name(path: string, label: string): void {
    this.names.set(path, label);
  }

  /** `path` as messages show it: `milter "clamav".fallback_status` rather than `milter[1].fallback_status`. */
  display(path: string): string {
    for (const [prefix, label] of this.names) {
      if (path === prefix) return label;
      if (path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`)) return label + path.slice(prefix.length);
    }
    return path;
  }

  /** An error at `path` (e.g. `milter[0].name`), located at that key's line or its nearest ancestor's. */
  error(path: string, reason: string): ConfigError {
    return new ConfigError(reason, { file: this.file, line: this.locator.line(path), key: path === '' ? undefined : this.display(path) });
  }

  /** Where a value came from: its line (or its table's) when present in the document, else 'default'. */
  originAt(path: string, present: boolean): Origin {
    return present ? fileOrigin(this.file, this.locator.line(path) ?? 1) : 'default';
  }
}

export function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof TomlDate);
}

/** "a string ("x")", "an integer (5)", ... for "expected ..., got ..." messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `a string (${clip(JSON.stringify(value))})`;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return `an integer (${value})`;
    return `a float (${value})`;
  }
  if (typeof value === 'bigint') return `an integer (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (value instanceof TomlDate) return 'a date-time';
  if (Array.isArray(value)) return 'an array';
  if (isTable(value)) return 'a table';
  return typeof value;
}

/** Why a duration has a ceiling at all: said once, where the limit is refused. */
function durationHint(unit: string | undefined): string {
  return unit === 's' || unit === 'ms' ? ' (about 24.8 days: the longest timer Node can hold)' : '';
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}..."` : s;
}

export interface NumberRule {
  readonly integer?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Value must be > 0. */
  readonly positive?: boolean;
  /** Inclusive upper bound, and the unit it is said in ("s"). */
  readonly max?: number;
  readonly unit?: string;
}

export class TableReader {
  /** Prefix of the origin keys this table's values are recorded under, e.g. `milter.opendkim` ('' for the top level); none: not recorded. */
  originPrefix: string | undefined;

  constructor(
    readonly ctx: ReadContext,
    /** Path of this table in the document, e.g. `manager`, `milter[2]`, '' for the root. */
    readonly path: string,
    readonly data: TomlTable,
    /** How the table is named in messages: "[manager]", "[[milter]]", "the top level". */
    readonly label: string,
    originPrefix?: string,
  ) {
    this.originPrefix = originPrefix;
  }

  keyPath(key: string): string {
    return childPath(this.path, key);
  }

  error(key: string | undefined, reason: string): ConfigError {
    return this.ctx.error(key === undefined ? this.path : this.keyPath(key), reason);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.data, key);
  }

  /** Rejects keys not in `allowed`, suggesting the nearest allowed one. */
  checkKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.data)) {
      if (!allowed.includes(key)) {
        throw this.error(key, `unknown key ${JSON.stringify(key)} in ${this.label}${didYouMean(key, allowed)}`);
      }
    }
  }

  /** Messages call this table `KIND "NAME"` (e.g. `milter "clamav"`) when it has a non-empty string name. */
  nameByKey(kind: string): void {
    const name = this.data['name'];
    if (typeof name === 'string' && name !== '') this.ctx.name(this.path, `${kind} ${JSON.stringify(name)}`);
  }

  /** Records the origin of `key` under the origin prefix. */
  record(key: string): void {
    if (this.originPrefix === undefined) return;
    const originKey = this.originPrefix === '' ? key : `${this.originPrefix}.${key}`;
    this.ctx.origins.set(originKey, this.ctx.originAt(this.keyPath(key), this.has(key)));
  }

  private raw(key: string): unknown {
    this.record(key);
    return this.has(key) ? this.data[key] : undefined;
  }

  string(key: string, what = 'a string'): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.error(key, `expected ${what}, got ${describeValue(v)}`);
    return v;
  }

  /** A string that must be present and not empty. */
  requiredString(key: string, what = 'a string'): string {
    const v = this.string(key, what);
    if (v === undefined) throw this.error(undefined, `${this.label} needs ${key} (${what})`);
    if (v.length === 0) throw this.error(key, `must not be empty`);
    return v;
  }

  /** A string that may be absent but not empty. */
  optionalNonEmptyString(key: string, what = 'a string'): string | undefined {
    const v = this.string(key, what);
    if (v !== undefined && v.length === 0) throw this.error(key, `must not be empty (leave ${key} out instead)`);
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.error(key, `expected true or false, got ${describeValue(v)}`);
    return v;
  }

  number(key: string, rule: NumberRule = {}): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const what = rule.integer ? 'an integer' : 'a number';
    if (typeof v !== 'number') throw this.error(key, `expected ${what}, got ${describeValue(v)}`);
    if (!Number.isFinite(v)) throw this.error(key, `expected ${what}, got ${v}`);
    if (rule.integer && !Number.isInteger(v)) throw this.error(key, `expected an integer, got ${v}`);
    if (rule.positive && v <= 0) throw this.error(key, `must be greater than 0, got ${v}`);
    if (rule.min !== undefined && v < rule.min) throw this.error(key, `must be at least ${rule.min}, got ${v}`);
    if (rule.max !== undefined && v > rule.max) {
      const unit = rule.unit === undefined ? '' : ` ${rule.unit}`;
      throw this.error(key, `must be at most ${rule.max}${unit}, got ${v}${durationHint(rule.unit)}`);
    }
    return v;
  }

  /** A duration in seconds: > 0 and no longer than a Node timer can hold (see timer-limit.ts). */
  seconds(key: string): number | undefined {
    return this.number(key, { positive: true, max: MAX_TIMER_SECONDS, unit: 's' });
  }

  /** A duration in seconds where 0 means off (or "at once"), bounded likewise. */
  secondsOrZero(key: string): number | undefined {
    return this.number(key, { min: 0, max: MAX_TIMER_SECONDS, unit: 's' });
  }

  /** A duration in whole milliseconds, bounded likewise. */
  milliseconds(key: string): number | undefined {
    return this.number(key, { integer: true, positive: true, max: MAX_TIMER_MS, unit: 'ms' });
  }

  /** One of `values` (or an alias of one), matched exactly. */
  oneOf<T extends string>(key: string, values: readonly T[], aliases: Readonly<Record<string, T>> = {}): T | undefined {
    const v = this.string(key, `one of ${values.join(', ')}`);
    if (v === undefined) return undefined;
    if ((values as readonly string[]).includes(v)) return v as T;
    const alias = Object.hasOwn(aliases, v) ? aliases[v] : undefined;
    if (alias !== undefined) return alias;
    const hint = didYouMean(v, [...values, ...Object.keys(aliases)]);
    throw this.error(key, `${JSON.stringify(v)} is not one of ${values.join(', ')}${hint}`);
  }

  /** An array whose elements are checked one by one; `check` gets each element and its path. */
  array<T>(key: string, check: (value: unknown, path: string) => T): T[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw this.error(key, `expected an array, got ${describeValue(v)}`);
    return v.map((el, i) => check(el, indexPath(this.keyPath(key), i)));
  }

  /** An array of strings; `check` may reject or transform each. */
  stringArray<T = string>(key: string, check?: (value: string, path: string) => T): T[] | undefined {
    return this.array(key, (el, path) => {
      if (typeof el !== 'string') throw this.ctx.error(path, `expected a string, got ${describeValue(el)}`);
      return check === undefined ? (el as T) : check(el, path);
    });
  }

  /** A sub-table, e.g. `[manager]` read from the root. */
  table(key: string, label = `[${key}]`, originPrefix?: string): TableReader | undefined {
    if (!this.has(key)) return undefined;
    const v = this.data[key];
    if (!isTable(v)) throw this.error(key, `expected a table ${label}, got ${describeValue(v)}`);
    return new TableReader(this.ctx, this.keyPath(key), v, label, originPrefix);
  }

  /** An array of tables, e.g. `[[milter]]`. */
  tables(key: string, label = `[[${key}]]`): TableReader[] {
    if (!this.has(key)) return [];
    const v = this.data[key];
    if (!Array.isArray(v)) {
      throw this.error(key, `expected an array of tables (write ${label} for each one), got ${describeValue(v)}`);
    }
    return v.map((el, i) => {
      const path = indexPath(this.keyPath(key), i);
      if (!isTable(el)) throw this.ctx.error(path, `expected a table ${label}, got ${describeValue(el)}`);
      return new TableReader(this.ctx, path, el, label);
    });
  }
}
