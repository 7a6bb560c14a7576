import { describe, expect, it } from 'vitest';
import { HeaderList } from '../../src/mail/header-list.js';

const base = () =>
  new HeaderList([
    { name: 'Received', value: 'a' },
    { name: 'Subject', value: 's' },
    { name: 'received', value: 'b' },
  ]);

describe('HeaderList (milter editing rules)', () => {
  it('adds at the end and inserts at a 0-based index over all headers', () => {
    const h = base();
    h.add('X-A', '1');
    h.insert(0, 'X-Top', 't');
    h.insert(99, 'X-End', 'e');
    expect(h.all.map((x) => x.name)).toEqual(['X-Top', 'Received', 'Subject', 'received', 'X-A', 'X-End']);
  });

  it('changes the n-th header of a name case-insensitively, 0 meaning 1', () => {
    const h = base();
    h.change('RECEIVED', 2, 'B2');
    h.change('Subject', 0, 'new');
    expect(h.get('received', 2)).toBe('B2');
    expect(h.all[2]).toEqual({ name: 'received', value: 'B2' });
    expect(h.get('subject')).toBe('new');
  });

  it('deletes with an empty value and adds when the occurrence does not exist', () => {
    const h = base();
    h.change('Received', 1, '');
    h.change('Received', 5, 'added');
    h.delete('X-None', 1);
    expect(h.all).toEqual([
      { name: 'Subject', value: 's' },
      { name: 'received', value: 'b' },
      { name: 'Received', value: 'added' },
    ]);
  });

  it('applies a list of changes in order and ignores non-header changes', () => {
    const h = base();
    h.apply([
      { kind: 'addHeader', name: 'X-Spam', value: 'no' },
      { kind: 'deleteHeader', name: 'Subject', index: 1 },
      { kind: 'insertHeader', index: 1, name: 'X-Two', value: '2' },
      { kind: 'addRecipient', recipient: '<x@y>' },
    ]);
    expect(h.all.map((x) => x.name)).toEqual(['Received', 'X-Two', 'received', 'X-Spam']);
  });
});
