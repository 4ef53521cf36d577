import { describe, expect, it } from '@jest/globals';
import { checkOutput, outputCritique } from './output-check.js';

const SCHEMA = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    days: {
      type: 'array',
      items: { type: 'object', properties: { t: { type: 'number' } }, required: ['t'], additionalProperties: false },
    },
  },
  required: ['city', 'days'],
  additionalProperties: false,
};

describe('checkOutput', () => {
  it('returns the parsed object when the answer is valid', () => {
    expect(checkOutput(SCHEMA, '{"city":"Oslo","days":[{"t":1.5}]}')).toEqual({
      valid: true,
      output: { city: 'Oslo', days: [{ t: 1.5 }] },
    });
  });

  it('names every failing path', () => {
    const res = checkOutput(SCHEMA, '{"days":[{"t":"warm"}],"extra":1}');
    expect(res.valid).toBe(false);
    expect(!res.valid && [...res.problems].sort()).toEqual([
      '/city: is required',
      '/days/0/t: must be number',
      '/extra: is not allowed',
    ]);
    expect(outputCritique(['/city: is required'])).toContain('/city: is required');
  });

  it('says when the answer is not JSON at all', () => {
    const res = checkOutput(SCHEMA, 'Oslo, mild');
    expect(!res.valid && res.problems).toEqual([expect.stringMatching(/^\(root\): the answer is not JSON/)]);
  });
});
