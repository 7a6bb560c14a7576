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

describe('HeaderList with the MTA’s hidden Received (Postfix’s rules)', () => {
  const own = { name: 'Received', value: ' from client by mx' };
  const mta = () =>
    new HeaderList(
      [
        { name: 'Date', value: ' d' },
        { name: 'Received', value: ' older' },
        { name: 'Subject', value: ' s' },
      ],
      { hiddenTop: own },
    );

  it('shows filters every field but the hidden one, which is written on top', () => {
    const h = mta();
    expect(h.visible.map((x) => x.name)).toEqual(['Date', 'Received', 'Subject']);
    expect(h.all[0]).toBe(own);
    expect(h.hiddenTop).toBe(own);
    expect(h.get('Received')).toBe(' older');
    expect(h.values('received')).toEqual([' older']);
  });

  it('counts the hidden Received for inserts: 0 above it, 1 above the first field a filter saw', () => {
    const h = mta();
    h.insert(2, 'X-Ins2', ' 2');
    h.insert(1, 'X-Ins1', ' 1');
    h.insert(0, 'X-Ins0', ' 0');
    expect(h.all.map((x) => x.name)).toEqual(['X-Ins0', 'Received', 'X-Ins1', 'Date', 'X-Ins2', 'Received', 'Subject']);
    expect(h.all[1]).toBe(own);
    expect(h.visible.map((x) => x.name)).toEqual(['X-Ins0', 'X-Ins1', 'Date', 'X-Ins2', 'Received', 'Subject']);
  });

  it('skips the hidden Received for a change or a deletion', () => {
    const h = mta();
    h.change('Received', 1, ' changed');
    expect(h.all.map((x) => x.value)).toEqual([own.value, ' d', ' changed', ' s']);
    h.delete('Received', 0);
    expect(h.all).toEqual([own, { name: 'Date', value: ' d' }, { name: 'Subject', value: ' s' }]);
    h.delete('Received', 1);
    expect(h.all[0]).toBe(own);
    h.change('Received', 1, ' new');
    expect(h.all.map((x) => x.value)).toEqual([own.value, ' d', ' s', ' new']);
  });

  it('skips the top field, as Postfix does, once a field was inserted above the hidden one', () => {
    const h = mta();
    h.insert(0, 'Subject', ' top');
    h.change('Subject', 1, ' edited');
    expect(h.all.map((x) => x.value)).toEqual([' top', own.value, ' d', ' older', ' edited']);
  });

  it('a clone keeps the hidden field where it stands', () => {
    const h = mta();
    h.insert(0, 'X-Top', ' t');
    const c = h.clone();
    expect(c.all).toEqual(h.all);
    expect(c.hiddenTop).toBe(own);
    expect(c.visible.map((x) => x.name)).toEqual(['X-Top', 'Date', 'Received', 'Subject']);
  });
});
