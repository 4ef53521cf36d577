import { describe, expect, it } from '@jest/globals';
import { GoalRequest } from './goal-request.js';
import { OUTPUT_SCHEMA_LIMITS, outputSchemaProblems } from './output-schema.js';

const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

describe('outputSchemaProblems', () => {
  it('accepts the strict subset: every type, enum, anyOf, nullable unions, nested objects and arrays', () => {
    const schema = obj({
      s: { type: 'string', pattern: '^[a-z]+$', description: 'text' },
      n: { type: 'number', minimum: 0 },
      i: { type: ['integer', 'null'] },
      b: { type: 'boolean' },
      e: { type: 'string', enum: ['a', 'b'] },
      a: { type: 'array', items: obj({ x: { type: 'string' } }), maxItems: 3 },
      u: { anyOf: [{ type: 'string' }, obj({ y: { type: 'number' } })] },
    });
    expect(outputSchemaProblems(schema)).toEqual([]);
  });

  it.each([
    ['a root that is not an object', { type: 'array', items: { type: 'string' } }, [[[], 'the root must be']]],
    [
      'an optional property and open objects',
      { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a'] },
      [
        [['additionalProperties'], 'must be false'],
        [['required'], 'missing: b'],
      ],
    ],
    [
      'an unsupported keyword',
      obj({ a: { type: 'string', format: 'email' } }),
      [[['properties', 'a', 'format'], 'keyword `format`']],
    ],
    ['an array without items', obj({ a: { type: 'array' } }), [[['properties', 'a'], 'must give `items`']]],
    ['an unknown type', obj({ a: { type: 'date' } }), [[['properties', 'a'], '`type` must be one of']]],
    ['a union of two non-null types', obj({ a: { type: ['string', 'number'] } }), [[['properties', 'a'], '`type`']]],
    ['a $ref', obj({ a: { $ref: '#/$defs/x' } }), [[['properties', 'a'], '`type` must be one of']]],
    ['an empty enum', obj({ a: { type: 'string', enum: [] } }), [[['properties', 'a', 'enum'], 'non-empty']]],
    [
      'a bad pattern',
      obj({ a: { type: 'string', pattern: '(' } }),
      [[['properties', 'a', 'pattern'], 'regular expression']],
    ],
    [
      'required naming no property',
      { ...obj({ a: { type: 'string' } }), required: ['a', 'z'] },
      [[['required'], 'names no property: z']],
    ],
  ])('refuses %s, naming the path', (_name, schema, expected) => {
    const problems = outputSchemaProblems(schema);
    expect(problems.map((p) => [p.path, p.message])).toEqual(
      (expected as [unknown[], string][]).map(([path, message]) => [path, expect.stringContaining(message)]),
    );
  });

  it('refuses schemas past the size limits', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < OUTPUT_SCHEMA_LIMITS.maxDepth + 1; i++) deep = obj({ d: deep });
    expect(outputSchemaProblems(deep).map((p) => p.message)).toEqual([expect.stringContaining('nests deeper than 10')]);
    const many = obj({ e: { type: 'string', enum: Array.from({ length: 1001 }, (_, i) => `v${i}`) } });
    expect(outputSchemaProblems(many).map((p) => p.message)).toEqual([expect.stringContaining('1001 enum values')]);
    const huge = obj({ a: { type: 'string', description: 'x'.repeat(OUTPUT_SCHEMA_LIMITS.maxBytes) } });
    expect(outputSchemaProblems(huge).map((p) => p.message)).toEqual([expect.stringContaining('bytes, more than')]);
  });

  it('is checked as part of a GoalRequest, each problem a zod issue under outputSchema', () => {
    const res = GoalRequest.safeParse({ goal: 'x', outputSchema: obj({ a: { type: 'array' } }) });
    expect(res.success).toBe(false);
    expect(res.error?.issues.map((i) => i.path.join('.'))).toEqual(['outputSchema.properties.a']);
    expect(GoalRequest.parse({ goal: 'x', outputSchema: obj({ a: { type: 'string' } }) }).outputSchema).toBeDefined();
  });
});
