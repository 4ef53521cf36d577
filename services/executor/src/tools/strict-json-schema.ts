/** A JSON Schema document as plain data. */
export type JsonSchema = { [key: string]: unknown };

// Validation-only keywords that OpenAI strict mode rejects on some models; zod still enforces them at run time,
// so dropping them from what the model sees loses no safety (put limits that matter in `.describe()`).
const STRIPPED_KEYWORDS = [
  '$schema',
  'default',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
];

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Rewrites an input-mode JSON Schema for OpenAI strict function calling: every object closed
 * (`additionalProperties: false`) with all properties required. Throws when a property is optional,
 * because strict mode cannot express that - such inputs must be written with `.nullable()` instead.
 */
export function toStrictJsonSchema(schema: JsonSchema, where = 'parameters'): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (STRIPPED_KEYWORDS.includes(key)) continue;
    if (key === 'properties' && isSchema(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, strictChild(sub, `${where}.${name}`)]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isSchema(value)) {
      out[key] = strictChild(value, `${where}[]`);
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((sub) => strictChild(sub, where));
    } else if (key === '$defs' && isSchema(value)) {
      out.$defs = Object.fromEntries(Object.entries(value).map(([n, sub]) => [n, strictChild(sub, `$defs.${n}`)]));
    } else {
      out[key] = value;
    }
  }
  if (out.type === 'object' || isSchema(out.properties)) closeObject(out, where);
  return out;
}

function strictChild(value: unknown, where: string): unknown {
  return isSchema(value) ? toStrictJsonSchema(value, where) : value;
}

function closeObject(node: JsonSchema, where: string): void {
  if (node.additionalProperties !== undefined && node.additionalProperties !== false) {
    throw new Error(`${where}: open-ended objects (records, passthrough) are not allowed in strict mode`);
  }
  const names = Object.keys(isSchema(node.properties) ? node.properties : {});
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  const optional = names.filter((name) => !required.has(name));
  if (optional.length > 0) {
    throw new Error(
      `${where}: optional properties (${optional.join(', ')}) are not allowed in strict mode; use .nullable() instead`,
    );
  }
  node.properties = isSchema(node.properties) ? node.properties : {};
  node.required = names;
  node.additionalProperties = false;
}
