/**
 * What makes a mailbox name unusable, whatever the store: names are Unicode with '/' as separator (RFC 3501
 * §5.1). Refused: empty names and components, '.' and '..' (path tricks), control characters, the LIST
 * wildcards '%' and '*', and names too long to be a directory name once escaped. A problem text for
 * NO [CANNOT], or undefined when the name is fine.
 */
const MAX_NAME_BYTES = 1000;
const MAX_COMPONENT_CHARS = 200;

export function mailboxNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'Empty mailbox name';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return 'Mailbox name is too long';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return 'Mailbox name contains control characters';
  }
  if (/[%*]/u.test(name)) return "Mailbox name contains '%' or '*'";
  for (const part of name.split('/')) {
    if (part.length === 0) return "Mailbox name has an empty hierarchy level ('/' at the start or end, or '//')";
    if (part === '.' || part === '..') return "Mailbox name contains '.' or '..' as a hierarchy level";
    if (part.length > MAX_COMPONENT_CHARS) return 'Mailbox name has a hierarchy level that is too long';
  }
  return undefined;
}
