import { describe, expect, it } from '@jest/globals';
import { observationError, observationOk } from '@triad/shared';
import { capObservation, MAX_OBSERVATION_BYTES } from './cap-observation.js';

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('capObservation', () => {
  it('returns small observations as they are', () => {
    const obs = observationOk({ a: 1 });
    expect(capObservation(obs)).toBe(obs);
  });

  it('fits data full of escapes and multi-byte characters into the byte budget', () => {
    const data = { text: '"\\\n€😀'.repeat(5000) };
    const capped = capObservation(observationOk(data), 1_000);
    expect(bytes(capped)).toBeLessThanOrEqual(1_000);
    expect(bytes(capped)).toBeGreaterThan(900);
    expect(capped).toMatchObject({ ok: true, data: { truncated: true, originalBytes: bytes(data) } });
  });

  it('shortens an oversized error message but keeps code and retryable', () => {
    const capped = capObservation(observationError('timeout', 'x'.repeat(MAX_OBSERVATION_BYTES), true));
    expect(bytes(capped)).toBeLessThanOrEqual(MAX_OBSERVATION_BYTES);
    expect(capped).toMatchObject({
      ok: false,
      error: { code: 'timeout', retryable: true, message: expect.stringMatching(/^x+ …\[truncated\]$/) },
    });
  });
});
