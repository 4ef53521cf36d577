import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of a result webhook. */
export const WEBHOOK_HEADERS = {
  timestamp: 'Triad-Timestamp',
  signature: 'Triad-Signature',
  event: 'Triad-Event',
  idempotencyKey: 'Idempotency-Key',
} as const;

const hmac = (secret: string, timestamp: string, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The `Triad-Signature` value of a body sent at `timestamp` (unix seconds): `v1=<hex hmac-sha256>`. */
export function signWebhook(secret: string, timestamp: number | string, body: string): string {
  return `v1=${hmac(secret, String(timestamp), body)}`;
}

// One signature: exactly `v1=` and 64 hex digits; anything before or after it makes the value invalid.
const SIGNATURE = /^v1=([0-9a-f]{64})$/i;

/**
 * Checks a received webhook: the signature (any of several `v1=` values, comma-separated, so secrets can rotate)
 * must match the raw body, and the timestamp must be within `toleranceSec` of now, which stops replays.
 * An empty or missing secret, or a tolerance that is not a finite number >= 0, verifies nothing (false).
 */
export function verifyWebhook(
  secret: string | null | undefined,
  timestamp: string | number | null | undefined,
  body: string,
  signature: string | null | undefined,
  toleranceSec = 300,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  if (!secret || timestamp == null || !signature) return false;
  if (typeof toleranceSec !== 'number' || !Number.isFinite(toleranceSec) || toleranceSec < 0) return false;
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSec - ts) > toleranceSec) return false;
  const expected = Buffer.from(hmac(secret, String(timestamp), body), 'hex');
  return signature
    .split(',')
    .map((s) => SIGNATURE.exec(s.trim())?.[1])
    .some((hex) => hex !== undefined && timingSafeEqual(Buffer.from(hex, 'hex'), expected));
}
