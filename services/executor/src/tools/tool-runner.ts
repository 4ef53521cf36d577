import { EgressError, type Observation, observationError, observationOk } from '@triad/shared';
import type { z } from 'zod';
import { capObservation } from './cap-observation.js';
import { type ToolContext, type ToolDefinition, ToolFailure } from './tool.js';
import type { ToolRegistry } from './tool-registry.js';

/** A tool call as the model emitted it; `arguments` is the raw JSON text. */
export interface ToolCall {
  tool: string;
  arguments: string;
}

export interface RunToolOptions {
  /** Used when the tool sets no timeoutMs of its own. */
  defaultTimeoutMs?: number;
}

/** Fallback when neither the tool nor the caller sets a timeout. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

const MAX_ERROR_MESSAGE_CHARS = 4_000;

/** Runs one tool call and reports the outcome as an Observation; never throws. */
export async function runTool(
  registry: ToolRegistry,
  call: ToolCall,
  ctx: ToolContext,
  opts: RunToolOptions = {},
): Promise<Observation> {
  try {
    return capObservation(await execute(registry, call, ctx, opts));
  } catch (err) {
    // Reachable only through a bug or a malformed call/context; callers rely on "never throws" regardless.
    return observationError('tool_error', `Internal error while running "${call?.tool}": ${describe(err)}`);
  }
}

async function execute(
  registry: ToolRegistry,
  call: ToolCall,
  ctx: ToolContext,
  opts: RunToolOptions,
): Promise<Observation> {
  if (ctx.signal.aborted) return observationError('cancelled', 'The run was cancelled before the tool started');
  const tool = registry.get(call.tool);
  if (!tool) {
    const available = registry.names().join(', ') || '(none)';
    return observationError('unknown_tool', `Unknown tool "${call.tool}". Available tools: ${available}`);
  }
  const args = parseArguments(tool, call.arguments);
  if (!args.ok) return observationError('invalid_arguments', args.message);

  const timeoutMs = tool.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const outcome = await runWithTimeout(tool, args.value, ctx, timeoutMs);
  if (outcome.kind === 'cancelled') return observationError('cancelled', `Tool "${tool.name}" was cancelled`);
  if (outcome.kind === 'timeout') {
    return observationError('timeout', `Tool "${tool.name}" timed out after ${timeoutMs} ms`, true);
  }
  if (outcome.kind === 'error') return errorObservation(tool.name, outcome.error);

  const output = tool.output.safeParse(outcome.value);
  if (!output.success) {
    return observationError(
      'invalid_output',
      `Tool "${tool.name}" returned output that does not match its schema: ${formatIssues(output.error.issues)}`,
    );
  }
  try {
    JSON.stringify(output.data); // data must survive the trip to the model (no BigInt, no cycles)
  } catch (err) {
    return observationError('invalid_output', `Tool "${tool.name}" returned output that is not JSON: ${describe(err)}`);
  }
  return observationOk(output.data);
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function parseArguments(tool: ToolDefinition, raw: string): Parsed {
  let json: unknown;
  try {
    // Some models send an empty string for a call without arguments.
    json = JSON.parse(typeof raw === 'string' && raw.trim() === '' ? '{}' : raw);
  } catch (err) {
    return { ok: false, message: `Arguments for "${tool.name}" are not valid JSON: ${describe(err)}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const kind = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
    return { ok: false, message: `Arguments for "${tool.name}" must be a JSON object, got ${kind}` };
  }
  const result = tool.input.safeParse(json);
  if (!result.success) {
    return { ok: false, message: `Invalid arguments for "${tool.name}": ${formatIssues(result.error.issues)}` };
  }
  return { ok: true, value: result.data };
}

type Outcome =
  | { kind: 'ok'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

// Races the tool against the combined signal, so a tool that ignores its signal still cannot hang the executor.
async function runWithTimeout(
  tool: ToolDefinition,
  args: unknown,
  ctx: ToolContext,
  timeoutMs: number,
): Promise<Outcome> {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new Error('timeout')), timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timer.signal]);
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {}); // settled by the race below or never observed
  try {
    const running = Promise.resolve().then(() => tool.run(args as z.output<z.ZodObject>, { ...ctx, signal }));
    running.catch(() => {}); // a tool that rejects after we gave up must not become an unhandled rejection
    return { kind: 'ok', value: await Promise.race([running, aborted]) };
  } catch (error) {
    // Whatever the tool threw, an abort explains it better (e.g. an AbortError from fs).
    if (ctx.signal.aborted) return { kind: 'cancelled' };
    if (timer.signal.aborted) return { kind: 'timeout' };
    return { kind: 'error', error };
  } finally {
    clearTimeout(handle);
    signal.removeEventListener('abort', onAbort);
  }
}

function errorObservation(toolName: string, err: unknown): Observation {
  if (err instanceof ToolFailure) return observationError(err.code, clip(err.message), err.retryable);
  // The guarded HTTP client's failures are written for the caller: the model sees them as they are.
  if (err instanceof EgressError) {
    return observationError(err.failure === 'timeout' ? 'timeout' : 'tool_error', clip(err.message), err.retryable);
  }
  return observationError('tool_error', clip(`Tool "${toolName}" failed: ${describe(err)}`));
}

/** Renders zod issues as `path: message` pairs, e.g. `entries[0].name: Invalid input: expected string`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const clip = (text: string): string =>
  text.length <= MAX_ERROR_MESSAGE_CHARS ? text : `${text.slice(0, MAX_ERROR_MESSAGE_CHARS)} …[truncated]`;
