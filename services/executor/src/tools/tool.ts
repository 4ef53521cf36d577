import type { ToolErrorCode, ToolRisk, ToolSpec } from '@triad/shared';
import { z } from 'zod';
import type { RunSemanticMemory } from './run-semantic-memory.js';
import { type JsonSchema, toStrictJsonSchema } from './strict-json-schema.js';
import type { ToolMemory } from './tool-memory.js';
import type { Workspace } from './workspace.js';

/** Tool names the model may call: lowercase snake_case, at most 64 characters. */
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** What a tool gets besides its arguments. */
export interface ToolContext {
  /** Aborted on cancellation or timeout; long-running tools must honour it. */
  signal: AbortSignal;
  /** Stable across retries of the same step, so side effects can be deduplicated. */
  idempotencyKey: string;
  runId: string;
  stepId: string;
  /** The run's goal, as the caller stated it. */
  goal: string;
  workspace: Workspace;
  memory: ToolMemory;
  /** The tenant's long-term memory, found by meaning (memorize, search_memory), bound to the run's tenant. */
  semanticMemory: RunSemanticMemory;
}

/** A tool the model can call: validated input, validated output, and how risky it is. */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  readonly risk: ToolRisk;
  readonly timeoutMs?: number;
  /**
   * The JSON Schema the model sees, given as is, for tools whose schema comes from elsewhere (MCP). Offered without
   * strict mode; `input` must still validate the same arguments.
   */
  readonly inputSchema?: JsonSchema;
  // Method syntax on purpose: keeps ToolDefinition<Specific> assignable to ToolDefinition in registries.
  run(args: z.output<I>, ctx: ToolContext): Promise<z.input<O>>;
}

/**
 * Declares a tool. Every input property must be required: write optional inputs as `.nullable()`
 * (the model sends `null`), never `.optional()` or `.default()`, which OpenAI strict mode cannot express.
 * Throws on a bad name, a bad timeout or an input schema that strict mode cannot express.
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodType>(
  def: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  if (!TOOL_NAME_PATTERN.test(def.name)) {
    throw new Error(`Invalid tool name "${def.name}": must match ${TOOL_NAME_PATTERN}`);
  }
  if (def.timeoutMs !== undefined && !(Number.isFinite(def.timeoutMs) && def.timeoutMs > 0)) {
    throw new Error(`Tool "${def.name}": timeoutMs must be a positive number`);
  }
  if (def.inputSchema !== undefined && def.inputSchema.type !== 'object') {
    throw new Error(`Tool "${def.name}": inputSchema must describe an object`);
  }
  toolSpec(def); // fail at definition time rather than on the first model call
  return Object.freeze({ ...def });
}

/** The spec of a tool as the model sees it: a strict JSON Schema (all properties required), or inputSchema as is. */
export function toolSpec(tool: ToolDefinition): ToolSpec {
  if (tool.inputSchema !== undefined) {
    const { name, description, risk } = tool;
    return {
      name,
      description,
      risk,
      parameters: structuredClone(tool.inputSchema),
      strict: false,
      secretArguments: [],
    };
  }
  const raw = z.toJSONSchema(tool.input, { io: 'input' }) as JsonSchema;
  let parameters: JsonSchema;
  try {
    parameters = toStrictJsonSchema(raw);
  } catch (err) {
    throw new Error(`Tool "${tool.name}": ${(err as Error).message}`);
  }
  const { name, description, risk } = tool;
  const secrets = secretArguments(tool.input);
  // Our own marker, not a JSON Schema keyword: strict mode would refuse it.
  const properties = (parameters.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const key of secrets) delete properties[key]?.secret;
  return { name, description, risk, parameters, strict: true, secretArguments: secrets };
}

/** Input properties marked `.meta({ secret: true })` (put the meta call last: zod does not carry it over). */
export function secretArguments(input: z.ZodObject): string[] {
  return Object.entries(input.shape).flatMap(([key, field]) =>
    (field as z.ZodType).meta()?.secret === true ? [key] : [],
  );
}

/** An expected tool failure whose message is meant for the model; lets the tool choose code and retryability. */
export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';
  readonly code: ToolErrorCode;
  readonly retryable: boolean;

  constructor(message: string, opts: { code?: ToolErrorCode; retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.code = opts.code ?? 'tool_error';
    this.retryable = opts.retryable ?? false;
  }
}
