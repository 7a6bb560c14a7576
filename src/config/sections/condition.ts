/** [[condition]]: user-defined applicable conditions, a regular expression on one field of the session. */
import { isBuiltinCondition } from '../condition-names.js';
import { conditionOriginKey } from '../origin.js';
import { compileRegExp, validRegExpFlags } from '../patterns.js';
import type { TableReader } from '../reader.js';
import type { ConditionAction, ConditionField, UserConditionConfig } from '../schema.js';

export const CONDITION_KEYS = ['name', 'description', 'field', 'macro', 'pattern', 'flags', 'action'] as const;
export const CONDITION_FIELDS: readonly ConditionField[] = ['host', 'address', 'helo', 'sender', 'recipient', 'macro'];
export const CONDITION_ACTIONS: readonly ConditionAction[] = ['apply', 'skip'];

export function readConditions(tables: readonly TableReader[]): UserConditionConfig[] {
  const seen = new Map<string, TableReader>();
  return tables.map((r) => {
    r.nameByKey('condition');
    const condition = readCondition(r);
    const lower = condition.name.toLowerCase();
    const first = seen.get(lower);
    if (first !== undefined) {
      const where = first.ctx.locator.line(first.keyPath('name'));
      throw r.error(
        'name',
        `duplicate condition name ${JSON.stringify(condition.name)} (names are case-insensitive; first defined${where === undefined ? '' : ` on line ${where}`})`,
      );
    }
    seen.set(lower, r);
    return condition;
  });
}

function readCondition(r: TableReader): UserConditionConfig {
  r.checkKeys(CONDITION_KEYS);
  const name = r.requiredString('name');
  if (isBuiltinCondition(name)) throw r.error('name', `${JSON.stringify(name)} is the name of a built-in condition`);
  r.originPrefix = conditionOriginKey(name);
  r.record('name');
  r.ctx.origins.set(conditionOriginKey(name), r.ctx.originAt(r.path, true));

  const description = r.string('description');
  const field = r.oneOf('field', CONDITION_FIELDS);
  if (field === undefined) throw r.error(undefined, `condition ${JSON.stringify(name)} needs field (one of ${CONDITION_FIELDS.join(', ')})`);
  const macro = r.optionalNonEmptyString('macro', 'a macro name like "{auth_authen}"');
  if (field === 'macro' && macro === undefined) throw r.error(undefined, `condition ${JSON.stringify(name)} has field = "macro" but no macro`);
  if (field !== 'macro' && macro !== undefined) throw r.error('macro', `macro is used only with field = "macro" (field is "${field}")`);

  const pattern = r.string('pattern', 'a JavaScript regular expression');
  if (pattern === undefined) throw r.error(undefined, `condition ${JSON.stringify(name)} needs pattern (a JavaScript regular expression)`);
  const flags = r.string('flags', 'regular expression flags like "i"') ?? '';
  if (!validRegExpFlags(flags)) throw r.error('flags', `${JSON.stringify(flags)} is not a valid set of regular expression flags`);
  const compiled = compileRegExp(pattern, flags);
  if (typeof compiled === 'string') throw r.error('pattern', compiled);

  const action = r.oneOf('action', CONDITION_ACTIONS);
  if (action === undefined) throw r.error(undefined, `condition ${JSON.stringify(name)} needs action ("apply" or "skip")`);

  return {
    name,
    ...(description === undefined ? {} : { description }),
    field,
    ...(macro === undefined ? {} : { macro }),
    pattern,
    flags,
    action,
  };
}
