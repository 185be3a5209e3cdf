import { describe, expect, it } from 'vitest';
import { diffFileSets, diffLines } from './line-diff.js';

describe('diffLines', () => {
  it('keeps common lines and marks the removed and the added', () => {
    expect(diffLines('a\nb\nc\n', 'a\nB\nc\nd\n')).toEqual([
      { mark: ' ', text: 'a' },
      { mark: '-', text: 'b' },
      { mark: '+', text: 'B' },
      { mark: ' ', text: 'c' },
      { mark: '+', text: 'd' },
    ]);
    expect(diffLines('', 'x')).toEqual([{ mark: '+', text: 'x' }]);
    expect(diffLines('same', 'same')).toEqual([{ mark: ' ', text: 'same' }]);
  });
});

describe('diffFileSets', () => {
  it('shows changed, added and removed files with context, nothing for equal ones', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const before = new Map([
      ['a.cedar', lines.join('\n')],
      ['gone.cedar', 'permit'],
      ['same.cedar', 'x'],
    ]);
    const after = new Map([
      ['a.cedar', lines.map((line, i) => (i === 10 ? 'changed' : line)).join('\n')],
      ['new.cedar', 'forbid'],
      ['same.cedar', 'x'],
    ]);
    expect(diffFileSets(before, after, { before: 'v1', after: 'v2' }, 1)).toEqual([
      '--- v1/a.cedar',
      '+++ v2/a.cedar',
      ' line 9',
      '-line 10',
      '+changed',
      ' line 11',
      '--- v1/gone.cedar',
      '+++ /dev/null',
      '-permit',
      '--- /dev/null',
      '+++ v2/new.cedar',
      '+forbid',
    ]);
  });
});
