import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineTool, ToolFailure, toolSpec } from './tool.js';

const base = {
  description: 'test tool',
  output: z.object({ ok: z.boolean() }),
  risk: 'read' as const,
  run: async () => ({ ok: true }),
};

describe('defineTool', () => {
  it('accepts snake_case names up to 64 characters', () => {
    expect(defineTool({ ...base, name: 'a', input: z.object({}) }).name).toBe('a');
    expect(defineTool({ ...base, name: `a${'b'.repeat(63)}`, input: z.object({}) }).name).toHaveLength(64);
  });

  it.each(['', 'Read', '1tool', 'read-file', 'read file', `a${'b'.repeat(64)}`])('rejects the name %j', (name) => {
    expect(() => defineTool({ ...base, name, input: z.object({}) })).toThrow(/Invalid tool name/);
  });

  it('rejects a non-positive timeout', () => {
    expect(() => defineTool({ ...base, name: 't', input: z.object({}), timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('rejects optional and defaulted inputs, pointing at .nullable()', () => {
    expect(() => defineTool({ ...base, name: 't', input: z.object({ a: z.string().optional() }) })).toThrow(
      /optional properties \(a\).*nullable/,
    );
    expect(() => defineTool({ ...base, name: 't', input: z.object({ n: z.number().default(1) }) })).toThrow(/\(n\)/);
    expect(() =>
      defineTool({ ...base, name: 't', input: z.object({ o: z.object({ deep: z.string().optional() }) }) }),
    ).toThrow(/parameters\.o: optional properties \(deep\)/);
  });

  it('rejects open-ended records', () => {
    expect(() => defineTool({ ...base, name: 't', input: z.object({ r: z.record(z.string(), z.string()) }) })).toThrow(
      /open-ended/,
    );
  });
});

describe('toolSpec', () => {
  it('produces a strict JSON Schema: all properties required, no extras, nested objects closed', () => {
    const tool = defineTool({
      ...base,
      name: 'search',
      risk: 'write',
      input: z.object({
        query: z.string().max(100).describe('what to look for'),
        limit: z.number().int().nullable(),
        filters: z.array(z.object({ field: z.string(), value: z.string() })),
      }),
    });
    const spec = toolSpec(tool);
    expect(spec).toMatchObject({ name: 'search', description: 'test tool', risk: 'write' });
    expect(spec.parameters).toEqual({
      type: 'object',
      properties: {
        query: { type: 'string', description: 'what to look for' },
        limit: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        filters: {
          type: 'array',
          items: {
            type: 'object',
            properties: { field: { type: 'string' }, value: { type: 'string' } },
            required: ['field', 'value'],
            additionalProperties: false,
          },
        },
      },
      required: ['query', 'limit', 'filters'],
      additionalProperties: false,
    });
  });

  it('gives an argument-less tool an empty closed object', () => {
    const spec = toolSpec(defineTool({ ...base, name: 'ping', input: z.object({}) }));
    expect(spec.parameters).toEqual({ type: 'object', properties: {}, required: [], additionalProperties: false });
  });
});

describe('ToolFailure', () => {
  it('defaults to a non-retryable tool_error and keeps a chosen code', () => {
    const plain = new ToolFailure('nope');
    expect([plain.code, plain.retryable, plain.message, plain instanceof Error]).toEqual([
      'tool_error',
      false,
      'nope',
      true,
    ]);
    const busy = new ToolFailure('busy', { retryable: true, code: 'timeout' });
    expect([busy.code, busy.retryable]).toEqual(['timeout', true]);
  });
});

describe('secret arguments', () => {
  it('are listed in the spec and their marker is kept out of the JSON Schema', () => {
    const tool = defineTool({
      name: 'with_secret',
      description: 'd',
      input: z.object({
        user: z.string(),
        token: z.string().nullable().meta({ secret: true, description: 'a token' }),
      }),
      output: z.object({}),
      risk: 'read',
      run: async () => ({}),
    });
    const spec = toolSpec(tool);
    expect(spec.secretArguments).toEqual(['token']);
    expect(JSON.stringify(spec.parameters)).not.toContain('"secret"');
    expect(JSON.stringify(spec.parameters)).toContain('a token');
  });
});
