/**
 * A message's header fields with the milter protocol's editing rules, so that changes returned at
 * end of message are applied the way Postfix applies them. The message editor (apply-changes.ts)
 * edits headers through this list.
 *
 * An MTA does not show its own Received field (the one it prepends) to filters, yet Postfix, for
 * Sendmail compatibility, counts it when it places an inserted field and skips it when it looks for
 * a field to change or delete (cleanup_milter.c): "insert at 0" lands above that Received, "insert
 * at 1" just below it. A list made with a `hiddenTop` field holds it at the top and follows the same
 * rules; without one (a filter's own view of a message) no field is hidden or skipped.
 */
import type { Change } from './changes.js';

/**
 * One header field. In a Message the value is what follows the colon (leading space included) with
 * folds as a bare LF, the form Postfix's milter client uses; a filter sees it without the leading
 * space unless it negotiated leadingSpace.
 */
export interface Header {
  readonly name: string;
  readonly value: string;
}

export interface HeaderListOptions {
  /** The MTA's own Received field: held at the top, never shown to a filter, counted by inserts. */
  readonly hiddenTop?: Header;
}

export class HeaderList {
  private readonly headers: Header[];
  private readonly hidden: Header | undefined;

  constructor(headers: Iterable<Header> = [], options: HeaderListOptions = {}) {
    this.headers = [...headers];
    this.hidden = options.hiddenTop;
    if (this.hidden) this.headers.unshift(this.hidden);
  }

  /** Every field in the order the message is written, the hidden one included. */
  get all(): readonly Header[] {
    return this.headers;
  }

  /** The fields a filter is shown: all but the hidden one. */
  get visible(): readonly Header[] {
    return this.hidden ? this.headers.filter((h) => h !== this.hidden) : this.headers;
  }

  /** The hidden field (the MTA's own Received), if the list has one. */
  get hiddenTop(): Header | undefined {
    return this.hidden;
  }

  get length(): number {
    return this.headers.length;
  }

  /** Appends a field as it is (whatever else it carries is kept, e.g. the chain's ids). */
  append(header: Header): void {
    this.headers.push(header);
  }

  /** Appends after all headers (SMFIR_ADDHEADER). */
  add(name: string, value: string): void {
    this.headers.push({ name, value });
  }

  /**
   * Inserts at a 0-based position over all headers, the hidden one counted (0 is above it); past the
   * end appends (SMFIR_INSHEADER).
   */
  insert(index: number, name: string, value: string): void {
    this.headers.splice(Math.min(Math.max(index, 0), this.headers.length), 0, { name, value });
  }

  /**
   * Changes the index-th (1-based, 0 treated as 1) header of that name, case-insensitively; an empty
   * value deletes it; a missing occurrence is added instead, a missing one to delete is ignored
   * (Postfix and libmilter behaviour). With a hidden field the count starts below the top field, as
   * Postfix's does (see position()).
   */
  change(name: string, index: number, value: string): void {
    const at = this.position(name, index);
    if (at === -1) {
      if (value !== '') this.add(name, value);
      return;
    }
    if (value === '') this.headers.splice(at, 1);
    // Spread: the header keeps whatever else identifies it (the chain tracks original headers by id).
    else this.headers[at] = { ...this.headers[at]!, value };
  }

  delete(name: string, index: number): void {
    this.change(name, index, '');
  }

  /**
   * Array position of the header a change to the index-th `name` edits, or -1. With a hidden field,
   * Postfix skips the top field, whatever it is: its own Received, or a field a filter inserted
   * above it (then that one can no longer be changed). Postfix would then count its own Received
   * among the others; this list never edits the hidden field (its text is the MTA's, unknown to the
   * manager), which differs from Postfix only for a change to Received after an insert at 0.
   */
  position(name: string, index: number): number {
    const wanted = name.toLowerCase();
    let n = 0;
    const target = Math.max(index, 1);
    for (let i = this.hidden ? 1 : 0; i < this.headers.length; i++) {
      const h = this.headers[i]!;
      if (h !== this.hidden && h.name.toLowerCase() === wanted && ++n === target) return i;
    }
    return -1;
  }

  /** The value of the index-th (1-based) field named `name` among those a filter is shown. */
  get(name: string, index = 1): string | undefined {
    return this.values(name)[Math.max(index, 1) - 1];
  }

  /** Values of every field named `name` (case-insensitive) a filter is shown, in order. */
  values(name: string): string[] {
    const wanted = name.toLowerCase();
    const out: string[] = [];
    for (const h of this.headers) if (h !== this.hidden && h.name.toLowerCase() === wanted) out.push(h.value);
    return out;
  }

  /** Applies the header changes among `changes`, values as given; others are ignored. */
  apply(changes: readonly Change[]): void {
    for (const c of changes) this.applyChange(c);
  }

  /** Applies one change if it is a header change (value as given); false for any other kind. */
  applyChange(c: Change): boolean {
    switch (c.kind) {
      case 'addHeader':
        this.add(c.name, c.value);
        return true;
      case 'insertHeader':
        this.insert(c.index, c.name, c.value);
        return true;
      case 'changeHeader':
        this.change(c.name, c.index, c.value);
        return true;
      case 'deleteHeader':
        this.delete(c.name, c.index);
        return true;
      default:
        return false;
    }
  }

  clone(): HeaderList {
    if (!this.hidden) return new HeaderList(this.headers);
    const copy = new HeaderList(this.headers.filter((h) => h !== this.hidden), { hiddenTop: this.hidden });
    // The hidden field keeps its place (a filter may have inserted above it).
    copy.headers.splice(0, copy.headers.length, ...this.headers);
    return copy;
  }
}
