import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { signWebhook, verifyWebhook } from './webhook-signature.js';

const now = 1_800_000_000;
const body = '{"runId":"r1","status":"succeeded"}';

describe('webhook signatures', () => {
  it('sign "<timestamp>.<body>" with HMAC-SHA256 as v1=<hex>', () => {
    const expected = createHmac('sha256', 's3cret').update(`${now}.${body}`).digest('hex');
    expect(signWebhook('s3cret', now, body)).toBe(`v1=${expected}`);
  });

  it('verify the right secret, body and timestamp, and nothing else', () => {
    const sig = signWebhook('s3cret', now, body);
    expect(verifyWebhook('s3cret', String(now), body, sig, 300, now + 10)).toBe(true);
    expect(verifyWebhook('other', now, body, sig, 300, now)).toBe(false);
    expect(verifyWebhook('s3cret', now, `${body} `, sig, 300, now)).toBe(false);
    expect(verifyWebhook('s3cret', now + 1, body, sig, 300, now)).toBe(false);
    expect(verifyWebhook('s3cret', now, body, 'v1=zz', 300, now)).toBe(false);
    expect(verifyWebhook('s3cret', now, body, null, 300, now)).toBe(false);
  });

  it('refuse an empty or missing secret: a forgery made with an empty key must not pass, and nothing throws', () => {
    expect(verifyWebhook('', now, body, signWebhook('', now, body), 300, now)).toBe(false);
    const sig = signWebhook('s3cret', now, body);
    expect(verifyWebhook(undefined, now, body, sig, 300, now)).toBe(false);
    expect(verifyWebhook(null, now, body, sig, 300, now)).toBe(false);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1])(
    'refuse an invalid tolerance (%s): replay checks stay on',
    (tol) => {
      const old = now - 86_400;
      expect(verifyWebhook('s3cret', old, body, signWebhook('s3cret', old, body), tol, now)).toBe(false);
    },
  );

  it.each(['zz', '0', 'abc', ' junk', '=', '\u0000'])('refuse a valid signature followed by %j', (tail) => {
    const sig = signWebhook('s3cret', now, body);
    expect(verifyWebhook('s3cret', now, body, `${sig}${tail}`, 300, now)).toBe(false);
    expect(verifyWebhook('s3cret', now, body, `v1=00, ${sig}${tail}`, 300, now)).toBe(false);
  });

  it('refuse a replay outside the tolerance, and accept any of several signatures (secret rotation)', () => {
    const sig = signWebhook('s3cret', now, body);
    expect(verifyWebhook('s3cret', now, body, sig, 300, now + 301)).toBe(false);
    expect(verifyWebhook('s3cret', now, body, `${signWebhook('old', now, body)}, ${sig}`, 300, now)).toBe(true);
  });
});
