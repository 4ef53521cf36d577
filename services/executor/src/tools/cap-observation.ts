import { type Observation, observationOk } from '@triad/shared';

/** Largest serialized observation handed back to the model, in UTF-8 bytes. */
export const MAX_OBSERVATION_BYTES = 64 * 1024;

const byteLength = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * Returns the observation unchanged if it serializes within `maxBytes`; otherwise replaces its data with
 * `{ truncated: true, originalBytes, preview }`, where preview is the start of the data's JSON.
 * Error messages are shortened the same way. Expects JSON-serializable data.
 */
export function capObservation(observation: Observation, maxBytes = MAX_OBSERVATION_BYTES): Observation {
  if (byteLength(observation) <= maxBytes) return observation;
  if (!observation.ok) {
    const { message } = observation.error;
    return shrinkToFit(message, (m) => ({ ...observation, error: { ...observation.error, message: m } }), maxBytes);
  }
  const json = JSON.stringify(observation.data);
  const originalBytes = Buffer.byteLength(json, 'utf8');
  return shrinkToFit(json, (preview) => observationOk({ truncated: true, originalBytes, preview }), maxBytes);
}

// Binary search for the longest prefix of `text` whose build(prefix + marker) fits: JSON escaping and
// multi-byte characters make the byte cost of a character vary, so no single cut is exact.
function shrinkToFit(text: string, build: (text: string) => Observation, maxBytes: number): Observation {
  const marker = ' …[truncated]';
  const fits = (keep: number) => byteLength(build(text.slice(0, keep) + marker)) <= maxBytes;
  let [low, high] = [0, Math.min(text.length, maxBytes)];
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return build(text.slice(0, low) + marker);
}
