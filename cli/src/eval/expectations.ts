import { isDeepStrictEqual } from 'node:util';
import type { RunRecord } from '@triad/shared';

/** The typed result of a run: its `output`, else its answer when that is a JSON object. */
export function resultOf(run: Pick<RunRecord, 'answer' | 'output'>): unknown {
  if (run.output) return run.output;
  try {
    return JSON.parse(run.answer ?? '');
  } catch {
    return undefined;
  }
}

/** `exact`: a string is compared with the answer (trimmed), anything else deep-equal with the result; null when it matches. */
export function exactMismatch(expected: unknown, run: Pick<RunRecord, 'answer' | 'output'>): string | null {
  if (typeof expected === 'string') {
    const answer = (run.answer ?? '').trim();
    return answer === expected.trim() ? null : `expected the answer ${show(expected)}, got ${show(answer)}`;
  }
  const actual = resultOf(run);
  return isDeepStrictEqual(actual, expected) ? null : `expected ${show(expected)}, got ${show(actual)}`;
}

/**
 * `subset`: every field of `expected` is in the result with the same value (objects recursively, arrays of the same
 * length element by element); null when it matches, else the first path that differs.
 */
export function subsetMismatch(expected: unknown, actual: unknown, path = ''): string | null {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual)) return `${path || '(root)'}: expected an array, got ${show(actual)}`;
      if (actual.length !== expected.length)
        return `${path || '(root)'}: expected ${expected.length} items, got ${actual.length}`;
      for (const [i, item] of expected.entries()) {
        const miss = subsetMismatch(item, actual[i], `${path}/${i}`);
        if (miss) return miss;
      }
      return null;
    }
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${path || '(root)'}: expected an object, got ${show(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      if (!(key in actual)) return `${path}/${key}: missing`;
      const miss = subsetMismatch(value, (actual as Record<string, unknown>)[key], `${path}/${key}`);
      if (miss) return miss;
    }
    return null;
  }
  return isDeepStrictEqual(expected, actual)
    ? null
    : `${path || '(root)'}: expected ${show(expected)}, got ${show(actual)}`;
}

const show = (v: unknown) => {
  const text = v === undefined ? '(nothing)' : JSON.stringify(v);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
};
