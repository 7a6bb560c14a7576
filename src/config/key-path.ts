/**
 * Paths into a TOML document, used both to name a key in an error and to find its line:
 * `manager.connection_spec`, `milter[1].applicable_conditions[0]`, `manager."odd.key"`.
 */

/** A key as a path segment: bare when TOML allows it bare, quoted otherwise. */
export function keySegment(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

export function childPath(base: string, key: string): string {
  const seg = keySegment(key);
  return base === '' ? seg : `${base}.${seg}`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** The enclosing path (`a.b[2]` → `a.b`, `a.b` → `a`, `a` → ''), or undefined at the root. */
export function parentPath(path: string): string | undefined {
  if (path === '') return undefined;
  if (path.endsWith(']')) {
    const open = path.lastIndexOf('[');
    if (open >= 0) return path.slice(0, open);
  }
  if (path.endsWith('"')) {
    // quoted last segment: find the opening quote that follows a '.' or the start
    for (let i = path.length - 2; i >= 0; i--) {
      if (path[i] === '"' && path[i - 1] !== '\\' && (i === 0 || path[i - 1] === '.')) return i === 0 ? '' : path.slice(0, i - 1);
    }
    return '';
  }
  const dot = path.lastIndexOf('.');
  return dot === -1 ? '' : path.slice(0, dot);
}
