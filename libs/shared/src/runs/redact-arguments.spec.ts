import { describe, expect, it } from '@jest/globals';
import {
  REDACTED,
  redactArguments,
  redactValues,
  redactValuesDeep,
  restoreRedacted,
  secretValues,
} from './redact-arguments.js';

describe('redactArguments', () => {
  it('replaces secret values, keeps the rest and leaves nulls visible', () => {
    const raw = JSON.stringify({ url: 'https://x', bearerToken: 'sk-1', other: null });
    expect(JSON.parse(redactArguments(raw, ['bearerToken', 'other']))).toEqual({
      url: 'https://x',
      bearerToken: REDACTED,
      other: null,
    });
  });

  it('returns the arguments untouched when nothing is secret', () => {
    expect(redactArguments('{"a":"sk-1"}', [])).toBe('{"a":"sk-1"}');
  });

  it('withholds arguments it cannot read when something is secret', () => {
    expect(redactArguments('{"bearerToken": "sk-1', ['bearerToken'])).not.toContain('sk-1');
    expect(redactArguments('["sk-1"]', ['bearerToken'])).not.toContain('sk-1');
  });

  it('finds the string values of secret arguments, to redact them wherever a result quotes them', () => {
    const raw = JSON.stringify({ url: 'https://x', bearerToken: 'tok-123', other: null });
    expect(secretValues(raw, ['bearerToken', 'other', 'missing'])).toEqual(['tok-123']);
    expect(secretValues('not json', ['bearerToken'])).toEqual([]);
    expect(redactValues('{"error":"tok-123 refused (tok-123)"}', ['tok-123'])).toBe(
      `{"error":"${REDACTED} refused (${REDACTED})"}`,
    );
    const observation = { ok: true, data: { body: 'you sent tok-123', n: 1, list: ['x', 'tok-123'], 'tok-123': null } };
    expect(redactValuesDeep(observation, ['tok-123'])).toEqual({
      ok: true,
      data: { body: `you sent ${REDACTED}`, n: 1, list: ['x', REDACTED], [REDACTED]: null },
    });
    expect(redactValuesDeep(observation, [])).toBe(observation);
  });
});

describe('restoreRedacted', () => {
  const original = '{"url":"https://a","bearerToken":"sk-1"}';
  it.each([
    [
      'puts back a secret the edit left as shown',
      '{"url":"https://b","bearerToken":"[redacted]"}',
      '{"url":"https://b","bearerToken":"sk-1"}',
    ],
    [
      'keeps a secret the approver replaced',
      '{"url":"https://b","bearerToken":"sk-2"}',
      '{"url":"https://b","bearerToken":"sk-2"}',
    ],
    [
      'keeps an edit that drops the secret',
      '{"url":"https://b","bearerToken":null}',
      '{"url":"https://b","bearerToken":null}',
    ],
    ['leaves an edit that is not JSON alone', '{oops', '{oops'],
  ])('%s', (_case, edited, expected) => {
    expect(restoreRedacted(edited, original, ['bearerToken'])).toBe(expected);
  });

  it('restores nothing for a tool without secrets', () => {
    expect(restoreRedacted('{"a":"[redacted]"}', '{"a":"x"}', [])).toBe('{"a":"[redacted]"}');
  });
});
