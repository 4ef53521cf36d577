import { describe, expect, it } from '@jest/globals';
import { formatIssues } from '../tools/tool-runner.js';
import { jsonSchemaInput } from './json-schema-input.js';

const errorsOf = (schema: Record<string, unknown>, value: unknown): string => {
  const result = jsonSchemaInput(schema).safeParse(value);
  return result.success ? '(valid)' : formatIssues(result.error.issues);
};

describe('jsonSchemaInput', () => {
  const point = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { x: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } },
    required: ['x'],
  };

  it('passes valid arguments through unchanged, including properties the schema does not list', () => {
    const args = { x: 1, tags: ['a'], extra: { deep: true } };
    expect(jsonSchemaInput(point).parse(args)).toEqual(args);
  });

  it('reports every error with the path of the offending value', () => {
    expect(errorsOf(point, { tags: ['a', 2] })).toBe('x: required property is missing; tags[1]: must be string');
    expect(errorsOf({ type: 'object', additionalProperties: false }, { 'a/b': 1 })).toBe(
      'a/b: property is not allowed',
    );
    expect(errorsOf({ type: 'object', properties: { 'a/b': { type: 'string' } } }, { 'a/b': 1 })).toBe(
      'a/b: must be string',
    );
  });

  it('refuses values that are not what the schema says', () => {
    expect(errorsOf(point, { x: '1' })).toBe('x: must be number');
    expect(errorsOf({ type: 'object', properties: { m: { type: 'string', format: 'email' } } }, { m: 'nope' })).toBe(
      'm: must match format "email"',
    );
  });

  it('reads 2020-12 schemas, the MCP default, as well as draft-07 ones', () => {
    const pair = { type: 'object', properties: { p: { type: 'array', prefixItems: [{ type: 'string' }] } } };
    expect(errorsOf(pair, { p: [1] })).toBe('p[0]: must be string');
    const tuple = { ...pair, $schema: 'http://json-schema.org/draft-07/schema#' };
    expect(errorsOf({ ...tuple, properties: { p: { type: 'array', items: [{ type: 'string' }] } } }, { p: [1] })).toBe(
      'p[0]: must be string',
    );
  });

  it('compiles schemas that share an $id independently', () => {
    const a = jsonSchemaInput({ $id: 'https://example.com/same.json', type: 'object', required: ['a'] });
    const b = jsonSchemaInput({ $id: 'https://example.com/same.json', type: 'object', required: ['b'] });
    expect([a.safeParse({ a: 1 }).success, b.safeParse({ a: 1 }).success]).toEqual([true, false]);
  });

  it('throws on a schema it cannot compile', () => {
    expect(() => jsonSchemaInput({ type: 'object', properties: { x: { type: 'no-such-type' } } })).toThrow(/type/);
  });
});
