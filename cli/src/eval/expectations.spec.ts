import { describe, expect, it } from '@jest/globals';
import { exactMismatch, resultOf, subsetMismatch } from './expectations.js';

const run = (answer: string | null, output?: Record<string, unknown>) => ({ answer, output });

describe('expectations', () => {
  it('exact: a string against the answer, anything else against the output (or an answer that is JSON)', () => {
    expect(exactMismatch('Porto', run(' Porto\n'))).toBeNull();
    expect(exactMismatch('Porto', run('Lisbon'))).toBe('expected the answer "Porto", got "Lisbon"');
    expect(exactMismatch({ a: [1, 2] }, run('{}', { a: [1, 2] }))).toBeNull();
    expect(exactMismatch({ a: 1 }, run('{"a":1}'))).toBeNull();
    expect(exactMismatch({ a: 1 }, run('{"a":1,"b":2}'))).toBe('expected {"a":1}, got {"a":1,"b":2}');
    expect(exactMismatch({ a: 1 }, run('prose'))).toBe('expected {"a":1}, got (nothing)');
  });

  it.each([
    [{ a: 1 }, { a: 1, b: 2 }, null],
    [{ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'x', d: 0 }], e: 1 } }, null],
    [{ a: 1 }, { b: 1 }, '/a: missing'],
    [{ a: { b: 2 } }, { a: { b: 3 } }, '/a/b: expected 2, got 3'],
    [{ a: [1, 2] }, { a: [1] }, '/a: expected 2 items, got 1'],
    [{ a: [{ b: 1 }] }, { a: [{ b: 2 }] }, '/a/0/b: expected 1, got 2'],
    [{ a: {} }, { a: 'x' }, '/a: expected an object, got "x"'],
    [{ a: null }, { a: null }, null],
  ])('subset %j of %j: %s', (expected, actual, mismatch) => {
    expect(subsetMismatch(expected, actual)).toBe(mismatch);
  });

  it('resultOf prefers the output and reads a JSON answer otherwise', () => {
    expect(resultOf(run('{"a":2}', { a: 1 }))).toEqual({ a: 1 });
    expect(resultOf(run('{"a":2}'))).toEqual({ a: 2 });
    expect(resultOf(run(null))).toBeUndefined();
  });
});
