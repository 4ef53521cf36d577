import type { RunOutput } from '@triad/shared';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** The outcome of checking a proposed answer against the goal's outputSchema. */
export type OutputCheck = { valid: true; output: RunOutput } | { valid: false; problems: string[] };

// One judge serves many runs; most goals of a system reuse a few schemas, so compiled validators are kept (bounded).
const MAX_CACHED = 200;
const cache = new Map<string, ValidateFunction>();

/** Parses `answer` as JSON and validates it with Ajv; each problem names the failing path (a JSON pointer). */
export function checkOutput(schema: Record<string, unknown>, answer: string): OutputCheck {
  let value: unknown;
  try {
    value = JSON.parse(answer);
  } catch (err) {
    return { valid: false, problems: [`(root): the answer is not JSON (${(err as Error).message})`] };
  }
  const validate = validatorOf(schema);
  if (validate(value)) return { valid: true, output: value as RunOutput };
  return { valid: false, problems: (validate.errors ?? []).map(describe) };
}

/** The critique that sends an invalid output back to the planner, naming each failing path. */
export function outputCritique(problems: string[]): string {
  return `The final answer does not match the required output schema: ${problems.join('; ')}. Answer again with a JSON object that matches the schema exactly.`;
}

function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = cache.get(key);
  if (hit) return hit;
  // The schema passed the strict-subset check at intake (outputSchemaProblems): every keyword in it is one Ajv knows.
  const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, validate);
  return validate;
}

function describe(error: ErrorObject): string {
  const at = error.instancePath || '';
  if (error.keyword === 'required') return `${at}/${String(error.params.missingProperty)}: is required`;
  if (error.keyword === 'additionalProperties')
    return `${at}/${String(error.params.additionalProperty)}: is not allowed`;
  if (error.keyword === 'enum')
    return `${at || '(root)'}: must be one of ${JSON.stringify(error.params.allowedValues)}`;
  return `${at || '(root)'}: ${error.message ?? `fails the "${error.keyword}" rule`}`;
}
