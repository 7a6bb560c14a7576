/**
 * The Authentication-Results field (RFC 8601) we add: `authserv-id; method=result (comment) ptype.prop=value; ...`.
 * Everything that comes from the message or from DNS is cleaned here, so a hostile selector or
 * domain can neither break the field's syntax nor make it huge.
 */
import { escapeComment } from '../shared/spf.js';

export interface ResultRow {
  /** spf, dkim, dmarc. */
  readonly method: string;
  readonly result: string;
  readonly comment?: string;
  /** `ptype.property` → value, e.g. `header.d` → `example.com`. */
  readonly props?: readonly (readonly [string, string])[];
}

const MAX_VALUE = 100;
const MAX_COMMENT = 200;

/** A property value as a token when it is one, else a quoted-string; clipped to a sane length. */
export function propValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const v = value.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, MAX_VALUE);
  if (v !== '' && /^[!#$%&'*+\-./0-9=?@A-Z^_`a-z{|}~]+$/.test(v)) return v;
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function formatRow(row: ResultRow): string {
  const parts = [`${row.method}=${row.result}`];
  if (row.comment !== undefined && row.comment !== '') parts.push(`(${escapeComment(row.comment.slice(0, MAX_COMMENT))})`);
  for (const [key, value] of row.props ?? []) if (value !== '') parts.push(`${key}=${propValue(value)}`);
  return parts.join(' ');
}

/** The field value: one row per line, folded with a bare LF and a tab (milter style). No rows: `none`. */
export function authenticationResults(authservId: string, rows: readonly ResultRow[]): string {
  if (rows.length === 0) return `${authservId}; none`;
  return `${authservId};\n\t${rows.map(formatRow).join(';\n\t')}`;
}
