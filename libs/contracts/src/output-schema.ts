import { z } from 'zod';

// A goal's `outputSchema` is sent to the model as a strict structured output (OpenAI `response_format` json_schema
// with `strict: true`), so it must stay inside the subset such providers accept: checked at intake, path by path.

/** Limits of a strict output schema, those of OpenAI's structured outputs. */
export const OUTPUT_SCHEMA_LIMITS = {
  maxDepth: 10,
  maxProperties: 5_000,
  maxEnumValues: 1_000,
  maxBytes: 64 * 1024,
} as const;

const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'] as const;
type SchemaType = (typeof TYPES)[number];

/** Keywords a schema node may carry, besides the type-specific ones below. */
const COMMON = new Set(['type', 'description', 'title', 'enum', 'anyOf']);
const BY_TYPE: Record<SchemaType, readonly string[]> = {
  string: ['pattern'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  boolean: [],
  array: ['items', 'minItems', 'maxItems'],
  object: ['properties', 'required', 'additionalProperties'],
  null: [],
};

/** One way a schema leaves the strict subset: where (a path into the schema) and why. */
export interface OutputSchemaProblem {
  path: (string | number)[];
  message: string;
}

interface Walk {
  problems: OutputSchemaProblem[];
  properties: number;
  enumValues: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every way `schema` leaves the strict structured-output subset ([] when it fits). */
export function outputSchemaProblems(schema: unknown): OutputSchemaProblem[] {
  const walk: Walk = { problems: [], properties: 0, enumValues: 0 };
  const bytes = new TextEncoder().encode(JSON.stringify(schema ?? null)).length;
  if (bytes > OUTPUT_SCHEMA_LIMITS.maxBytes) {
    return [{ path: [], message: `is ${bytes} bytes, more than ${OUTPUT_SCHEMA_LIMITS.maxBytes}` }];
  }
  if (!isPlainObject(schema) || schema.type !== 'object') {
    return [{ path: [], message: 'the root must be a schema of `type: "object"`' }];
  }
  node(schema, [], 1, walk);
  if (walk.properties > OUTPUT_SCHEMA_LIMITS.maxProperties)
    walk.problems.push({
      path: [],
      message: `has ${walk.properties} properties, at most ${OUTPUT_SCHEMA_LIMITS.maxProperties}`,
    });
  if (walk.enumValues > OUTPUT_SCHEMA_LIMITS.maxEnumValues)
    walk.problems.push({
      path: [],
      message: `has ${walk.enumValues} enum values, at most ${OUTPUT_SCHEMA_LIMITS.maxEnumValues}`,
    });
  return walk.problems;
}

function node(s: unknown, path: (string | number)[], depth: number, w: Walk): void {
  const fail = (message: string, at: (string | number)[] = path) => w.problems.push({ path: at, message });
  if (!isPlainObject(s)) return void fail('must be a schema object');
  if (depth > OUTPUT_SCHEMA_LIMITS.maxDepth)
    return void fail(`nests deeper than ${OUTPUT_SCHEMA_LIMITS.maxDepth} levels`);
  if (s.anyOf !== undefined) {
    anyOf(s, path, depth, w);
    return;
  }
  const types = typesOf(s.type);
  if (!types)
    return void fail('`type` must be one of string, number, integer, boolean, array, object, or [type, "null"]');
  const allowed = new Set([...COMMON, ...types.flatMap((t) => BY_TYPE[t])]);
  for (const key of Object.keys(s)) {
    if (!allowed.has(key)) fail(`keyword \`${key}\` is not supported by strict structured output`, [...path, key]);
  }
  if (s.enum !== undefined) enumValues(s.enum, [...path, 'enum'], w);
  if (typeof s.pattern === 'string' && !validPattern(s.pattern))
    fail('is not a valid regular expression', [...path, 'pattern']);
  if (types.includes('object')) objectNode(s, path, depth, w);
  if (types.includes('array')) {
    if (s.items === undefined) fail('an array must give `items`');
    else node(s.items, [...path, 'items'], depth + 1, w);
  }
}

function anyOf(s: Record<string, unknown>, path: (string | number)[], depth: number, w: Walk): void {
  const extra = Object.keys(s).filter((k) => k !== 'anyOf' && k !== 'description' && k !== 'title');
  for (const key of extra)
    w.problems.push({ path: [...path, key], message: 'only `description` may sit beside `anyOf`' });
  if (!Array.isArray(s.anyOf) || s.anyOf.length === 0) {
    w.problems.push({ path: [...path, 'anyOf'], message: 'must be a non-empty array of schemas' });
    return;
  }
  for (const [i, branch] of s.anyOf.entries()) node(branch, [...path, 'anyOf', i], depth + 1, w);
}

function objectNode(s: Record<string, unknown>, path: (string | number)[], depth: number, w: Walk): void {
  const fail = (message: string, at: (string | number)[]) => w.problems.push({ path: at, message });
  if (!isPlainObject(s.properties)) return void fail('an object must give `properties`', [...path, 'properties']);
  const names = Object.keys(s.properties);
  w.properties += names.length;
  if (s.additionalProperties !== false) fail('must be false', [...path, 'additionalProperties']);
  const required = Array.isArray(s.required) ? s.required : null;
  if (!required) fail('must list every property', [...path, 'required']);
  else {
    const missing = names.filter((n) => !required.includes(n));
    const unknown = required.filter((r) => typeof r !== 'string' || !names.includes(r));
    if (missing.length) fail(`must list every property; missing: ${missing.join(', ')}`, [...path, 'required']);
    if (unknown.length) fail(`names no property: ${unknown.join(', ')}`, [...path, 'required']);
  }
  for (const name of names) node(s.properties[name], [...path, 'properties', name], depth + 1, w);
}

function typesOf(type: unknown): SchemaType[] | null {
  const known = (t: unknown): t is SchemaType => typeof t === 'string' && (TYPES as readonly string[]).includes(t);
  if (known(type) && type !== 'null') return [type];
  if (Array.isArray(type) && type.length === 2 && type.every(known) && type.includes('null') && type[0] !== type[1])
    return type as SchemaType[];
  return null;
}

function enumValues(values: unknown, path: (string | number)[], w: Walk): void {
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (!Array.isArray(values) || values.length === 0 || !values.every(scalar)) {
    w.problems.push({ path, message: 'must be a non-empty array of strings, numbers, booleans or null' });
    return;
  }
  w.enumValues += values.length;
}

function validPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** A JSON Schema in the strict structured-output subset (see outputSchemaProblems). */
export const OutputSchema = z
  .record(z.string(), z.unknown())
  .superRefine((schema, ctx) => {
    for (const p of outputSchemaProblems(schema)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  })
  .describe(
    'JSON Schema of the final answer, in the subset strict structured output accepts: a root object; every object lists all its properties in `required` and sets `additionalProperties: false`; types string, number, integer, boolean, array (with `items`), object, enum, anyOf, and nullable as [type, "null"]; at most 10 levels, 5000 properties, 1000 enum values, 64 KiB',
  );

/** A run's typed result: the final answer parsed as JSON, valid against the goal's outputSchema. */
export const RunOutput = z.record(z.string(), z.unknown());
export type RunOutput = z.infer<typeof RunOutput>;
