/**
 * A message's header fields with the milter protocol's editing rules, so that changes returned at
 * end of message are applied the way Postfix and libmilter apply them. The message editor
 * (apply-changes.ts) edits headers through this list.
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

export class HeaderList {
  private readonly headers: Header[];

  constructor(headers: Iterable<Header> = []) {
    this.headers = [...headers];
  }

  get all(): readonly Header[] {
    return this.headers;
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

  /** Inserts at a 0-based position over all headers; past the end appends (SMFIR_INSHEADER). */
  insert(index: number, name: string, value: string): void {
    this.headers.splice(Math.min(Math.max(index, 0), this.headers.length), 0, { name, value });
  }

  /**
   * Changes the index-th (1-based, 0 treated as 1) header of that name, case-insensitively; an empty
   * value deletes it; a missing occurrence is added instead (Postfix and libmilter behaviour).
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

  /** Array position of the index-th header named `name`, or -1. */
  position(name: string, index: number): number {
    const wanted = name.toLowerCase();
    let n = 0;
    const target = Math.max(index, 1);
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i]!.name.toLowerCase() === wanted && ++n === target) return i;
    }
    return -1;
  }

  get(name: string, index = 1): string | undefined {
    const at = this.position(name, index);
    return at === -1 ? undefined : this.headers[at]!.value;
  }

  /** Values of every field named `name` (case-insensitive), in order. */
  values(name: string): string[] {
    const wanted = name.toLowerCase();
    const out: string[] = [];
    for (const h of this.headers) if (h.name.toLowerCase() === wanted) out.push(h.value);
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
    return new HeaderList(this.headers);
  }
}
