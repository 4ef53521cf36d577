import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import type { JsonSchema } from '../tools/strict-json-schema.js';

// MCP names 2020-12 the default dialect, yet most servers (the TypeScript SDK among them) still send draft-07.
const OLD_DRAFT = /json-schema\.org\/draft-0[4-7]\/schema/;

// strict: false because servers write schemas for many validators, and ajv's strict mode refuses harmless extras;
// validateSchema: false because ajv lacks the meta-schemas of older drafts that a server may name in $schema.
const OPTIONS: Options = { strict: false, allErrors: true, validateSchema: false };

/**
 * A zod schema accepting exactly the objects `schema` accepts, reporting ajv's errors as zod issues.
 * Throws if ajv cannot compile the schema.
 */
export function jsonSchemaInput(schema: JsonSchema): z.ZodObject {
  const validate = compile(schema);
  // Loose, so the arguments reach the tool unchanged: the JSON Schema decides which properties are allowed.
  return z.looseObject({}).superRefine((args, ctx) => {
    if (validate(args)) return;
    for (const error of validate.errors ?? []) ctx.addIssue({ code: 'custom', ...toIssue(error) });
  });
}

function compile(schema: JsonSchema): ValidateFunction {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  // A fresh instance per schema: two tools may declare the same $id, which one instance refuses.
  const ajv = OLD_DRAFT.test(dialect) ? new Ajv(OPTIONS) : new Ajv2020(OPTIONS);
  // ajv-formats is CommonJS typed as an ES module: under NodeNext its default import is the module object.
  addFormats.default(ajv);
  return ajv.compile(schema);
}

function toIssue(error: ErrorObject): { path: PropertyKey[]; message: string } {
  const path = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map(pointerSegment);
  if (error.keyword === 'required') {
    return { path: [...path, String(error.params.missingProperty)], message: 'required property is missing' };
  }
  if (error.keyword === 'additionalProperties') {
    return { path: [...path, String(error.params.additionalProperty)], message: 'property is not allowed' };
  }
  return { path, message: error.message ?? `fails the "${error.keyword}" rule` };
}

function pointerSegment(segment: string): string | number {
  const key = segment.replaceAll('~1', '/').replaceAll('~0', '~');
  return /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key;
}
