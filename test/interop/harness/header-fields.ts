// The header block of a message as written (a sink dump, a Maildir file), unfolded field by field, so
// tests can assert on the order and values of fields whatever their folding.
export function headerFields(message: string): string[] {
  const out: string[] = [];
  for (const line of message.slice(0, message.search(/\r?\n\r?\n/)).split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line);
  }
  return out;
}
