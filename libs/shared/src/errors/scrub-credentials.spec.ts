import { describe, expect, it } from '@jest/globals';
import { registerCredentials, scrubCredentials } from './scrub-credentials.js';

describe('scrubCredentials', () => {
  it('removes registered values verbatim, wherever they appear', () => {
    registerCredentials('my-provider-key-123', undefined, null, 'short');
    expect(scrubCredentials('401: key my-provider-key-123 is invalid (my-provider-key-123)')).toBe(
      '401: key [redacted] is invalid ([redacted])',
    );
    // Too short to be told apart from ordinary words: left alone.
    expect(scrubCredentials('a short answer')).toBe('a short answer');
  });

  it.each([
    ['Authorization: Bearer abc.def-ghi_123', 'Authorization: Bearer [redacted]'],
    ['authorization: bearer abcdef', 'authorization: bearer [redacted]'],
    ['Incorrect API key provided: sk-proj-AbC123_xyz-7890.', 'Incorrect API key provided: [redacted].'],
    ['{"api_key":"k-123456"}', '{"api_key":"[redacted]"}'],
    ['x-api-key: abcdef; next', 'x-api-key: [redacted]; next'],
  ])('scrubs %j', (input, expected) => {
    expect(scrubCredentials(input)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'model call failed (HTTP 500): the bearer of bad news; task-runner sk-1 ok';
    expect(scrubCredentials(text)).toBe(text);
  });
});
