import { describe, expect, test } from 'vitest';
import { describeThrown, InputError } from '../../src/base/errors.js';

describe('describeThrown: what the "a bug in vmscope" message says', () => {
  test('an Error gives its stack, with its message', () => {
    expect(describeThrown(new RangeError('offset out of bounds'))).toMatch(
      /^RangeError: offset out of bounds\n\s+at /,
    );
  });

  test('a thrown object that is not an Error is named by its class and fields, never [object Object]', () => {
    class HeapStop {
      readonly kind: string | null = null;
    }
    const text = describeThrown(new HeapStop());
    expect(text).not.toContain('[object Object]');
    expect(text).toBe('a thrown HeapStop (not an Error): {"kind":null}');
    expect(describeThrown({})).toBe('a thrown Object (not an Error)');
    expect(describeThrown(Object.create(null))).not.toContain('[object Object]');
  });

  test('strings, numbers and undefined are shown as they are', () => {
    expect(describeThrown('broken')).toBe('broken');
    expect(describeThrown(42)).toBe('a thrown number: 42');
    expect(describeThrown(undefined)).toBe('a thrown undefined: undefined');
    expect(describeThrown(null)).toBe('a thrown null: null');
  });

  test('an object whose fields cannot be serialized is still named', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop['self'] = loop;
    expect(describeThrown(loop)).toBe('a thrown Object (not an Error): a, self');
  });

  test('an InputError is an Error (its own format is for the user, not this)', () => {
    expect(describeThrown(new InputError('x', 'bad', { file: 'f' }))).toMatch(/^InputError: bad/);
  });
});

describe('InputError.format', () => {
  test('a file name read from damaged input shows its control characters escaped (found by fuzzing)', () => {
    // A PT_INTERP damaged to "\x01" printed a raw control character where the file's name goes.
    expect(new InputError('exec', 'no such interpreter', { file: '\x01' }).format()).toBe(
      '\\x01: error: no such interpreter',
    );
    expect(new InputError('exec', 'no such interpreter', { file: '' }).format()).toBe(
      "'': error: no such interpreter",
    );
    expect(new InputError('t', 'bad', { file: 'a b.txt', line: 3, column: 2 }).format()).toBe(
      'a b.txt:3:2: error: bad',
    );
  });
});
