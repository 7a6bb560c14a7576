/**
 * Finds the line of a key, table or array element in TOML text. smol-toml reports positions only for
 * syntax errors, so after a successful parse this light scanner indexes the document once: every key,
 * `[table]`, `[[array table]]` (one entry per occurrence, `milter[0]`, `milter[1]`, ...), dotted and
 * quoted key, inline-table key and array element gets the line it starts on.
 */
import { childPath, indexPath, parentPath } from './key-path.js';

export class TomlLocator {
  private readonly lines = new Map<string, number>();

  constructor(text: string) {
    try {
      new Scanner(text, this.lines).run();
    } catch {
      // Only reached on text smol-toml rejected or on a construct the scanner does not know:
      // keep what was indexed so far; lookups fall back to the nearest known ancestor.
    }
  }

  /** The line of `path`, else of its nearest indexed ancestor; undefined when nothing matches. */
  line(path: string): number | undefined {
    for (let p: string | undefined = path; p !== undefined && p !== ''; p = parentPath(p)) {
      const line = this.lines.get(p);
      if (line !== undefined) return line;
    }
    return undefined;
  }

  /** True when `path` itself was found in the text. */
  has(path: string): boolean {
    return this.lines.has(path);
  }
}

class ScanError extends Error {}

class Scanner {
  private pos = 0;
  private lineNo = 1;
  private table = '';
  /** Occurrences of each array table so far (keyed by its path without the index). */
  private readonly arrayTables = new Map<string, number>();

  constructor(
    private readonly text: string,
    private readonly out: Map<string, number>,
  ) {}

  run(): void {
    if (this.text.charCodeAt(0) === 0xfeff) this.pos = 1;
    for (;;) {
      this.skipTrivia(true);
      if (this.pos >= this.text.length) return;
      if (this.peek() === '[') this.header();
      else this.keyValue(this.table);
    }
  }

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private record(path: string, line: number): void {
    if (!this.out.has(path)) this.out.set(path, line);
  }

  /** Skips blanks and comments, and newlines too when `newlines`. */
  private skipTrivia(newlines: boolean): void {
    while (this.pos < this.text.length) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '#') {
        while (this.pos < this.text.length && this.peek() !== '\n') this.pos++;
      } else if (c === '\n' && newlines) {
        this.pos++;
        this.lineNo++;
      } else return;
    }
  }

  private expect(s: string): void {
    if (!this.text.startsWith(s, this.pos)) throw new ScanError(`expected ${s}`);
    this.pos += s.length;
  }

  private header(): void {
    const line = this.lineNo;
    const isArray = this.peek(1) === '[';
    this.pos += isArray ? 2 : 1;
    const segments = this.key();
    this.skipTrivia(false);
    this.expect(isArray ? ']]' : ']');
    let path = '';
    segments.forEach((seg, i) => {
      path = childPath(path, seg);
      const count = this.arrayTables.get(path);
      if (i < segments.length - 1 && count !== undefined) path = indexPath(path, count - 1);
    });
    if (isArray) {
      const n = this.arrayTables.get(path) ?? 0;
      this.arrayTables.set(path, n + 1);
      this.record(path, line);
      path = indexPath(path, n);
    }
    this.record(path, line);
    this.table = path;
  }

  /** A possibly dotted key: bare, "basic" or 'literal' segments. */
  private key(): string[] {
    const segments: string[] = [];
    for (;;) {
      this.skipTrivia(false);
      const c = this.peek();
      if (c === '"') segments.push(this.basicString());
      else if (c === "'") segments.push(this.literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.pos, this.pos + 1024));
        if (m === null) throw new ScanError('expected a key');
        segments.push(m[0]);
        this.pos += m[0].length;
      }
      this.skipTrivia(false);
      if (this.peek() !== '.') return segments;
      this.pos++;
    }
  }

  private keyValue(base: string): void {
    const line = this.lineNo;
    const segments = this.key();
    this.expect('=');
    this.skipTrivia(false);
    let path = base;
    for (const seg of segments) {
      path = childPath(path, seg);
      this.record(path, line);
    }
    this.value(path);
  }

  private value(path: string): void {
    const c = this.peek();
    if (c === '"') {
      if (this.text.startsWith('"""', this.pos)) this.multiline('"""', true);
      else this.basicString();
    } else if (c === "'") {
      if (this.text.startsWith("'''", this.pos)) this.multiline("'''", false);
      else this.literalString();
    } else if (c === '[') this.array(path);
    else if (c === '{') this.inlineTable(path);
    else {
      const start = this.pos;
      while (this.pos < this.text.length && !',]}\n#'.includes(this.peek())) this.pos++;
      if (this.pos === start) throw new ScanError('expected a value');
    }
  }

  private array(path: string): void {
    this.pos++;
    for (let i = 0; ; i++) {
      this.skipTrivia(true);
      if (this.peek() === ']') {
        this.pos++;
        return;
      }
      this.record(indexPath(path, i), this.lineNo);
      this.value(indexPath(path, i));
      this.skipTrivia(true);
      if (this.peek() === ',') this.pos++;
      else {
        this.expect(']');
        return;
      }
    }
  }

  private inlineTable(path: string): void {
    this.pos++;
    for (;;) {
      this.skipTrivia(true);
      if (this.peek() === '}') {
        this.pos++;
        return;
      }
      this.keyValue(path);
      this.skipTrivia(true);
      if (this.peek() === ',') this.pos++;
      else {
        this.expect('}');
        return;
      }
    }
  }

  /** A one-line "basic string"; returns its (approximately) decoded text. */
  private basicString(): string {
    this.pos++;
    let raw = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') throw new ScanError('unterminated string');
      this.pos++;
      if (c === '"') break;
      if (c === '\\') {
        raw += c + this.peek();
        this.pos++;
      } else raw += c;
    }
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw;
    }
  }

  private literalString(): string {
    this.pos++;
    const end = this.text.indexOf("'", this.pos);
    const nl = this.text.indexOf('\n', this.pos);
    if (end === -1 || (nl !== -1 && nl < end)) throw new ScanError('unterminated string');
    const s = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  private multiline(delimiter: string, escapes: boolean): void {
    this.pos += 3;
    for (;;) {
      if (this.pos >= this.text.length) throw new ScanError('unterminated string');
      const c = this.peek();
      if (escapes && c === '\\') {
        if (this.peek(1) === '\n') this.lineNo++;
        this.pos += 2;
      } else if (this.text.startsWith(delimiter, this.pos)) {
        this.pos += 3;
        // up to two more quote characters belong to the string
        for (let extra = 0; extra < 2 && this.peek() === delimiter[0]; extra++) this.pos++;
        return;
      } else {
        if (c === '\n') this.lineNo++;
        this.pos++;
      }
    }
  }
}
