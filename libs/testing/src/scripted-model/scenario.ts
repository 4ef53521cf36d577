import { readFile } from 'node:fs/promises';
import { z } from 'zod';

// Objects are strict so that a typo in a hand-written scenario (`turnby`, `toolcalls`) fails at load time
// instead of silently producing a different conversation.

export const ToolCallScript = z.strictObject({
  id: z.string().min(1).optional(),
  name: z.string().min(1),
  /** A string is sent verbatim (may be broken JSON on purpose); an object is JSON-stringified. */
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]),
});
export type ToolCallScript = z.infer<typeof ToolCallScript>;

export const Fault = z.union([
  z.strictObject({
    status: z.number().int().min(400).max(599),
    message: z.string().optional(),
    retryAfterSeconds: z.number().nonnegative().optional(),
  }),
  z.strictObject({ kind: z.literal('truncated-json') }),
  z.strictObject({ kind: z.literal('empty-choices') }),
  /** No answer at all: the connection is held for `ms` (longer than the client's timeout), then dropped. */
  z.strictObject({ kind: z.literal('stall'), ms: z.number().int().positive().default(60_000) }),
]);
export type Fault = z.infer<typeof Fault>;

export const Turn = z.strictObject({
  content: z.string().nullable().optional(),
  /**
   * A structured-output reply: this JSON value (its strings templated like `content`) is sent as the content. The
   * request must ask for structured output (`response_format` of type `json_schema`), as a strict provider needs.
   */
  output: z.unknown().optional(),
  /** The model declines: `message.refusal` carries this text and `content` is null. */
  refusal: z.string().min(1).optional(),
  toolCalls: z.array(ToolCallScript).optional(),
  usage: z
    .strictObject({ prompt_tokens: z.number().int().nonnegative(), completion_tokens: z.number().int().nonnegative() })
    .optional(),
  finishReason: z.string().min(1).optional(),
  delayMs: z.number().int().nonnegative().optional(),
  fault: Fault.optional(),
  /**
   * Under `turnBy` 'lastMessage': a case-insensitive substring of the request's last message; the first turn whose
   * `when` is found there is played (a turn without `when` fits any request).
   */
  when: z.string().min(1).optional(),
});
export type Turn = z.infer<typeof Turn>;

/**
 * How a role's turn is chosen: by how many requests the role made (across every conversation), by how many
 * assistant messages the conversation holds, or by the `when` text of the turn found in the last message. The last
 * two depend on the request only, so any number of conversations can run the script, one after another or at once.
 */
export const TurnBy = z.enum(['requestCount', 'assistantMessages', 'lastMessage']);
export type TurnBy = z.infer<typeof TurnBy>;

export const Script = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  /** Case-insensitive substring of the first user message; a script without it fits every request. */
  match: z.string().optional(),
  /**
   * Case-insensitive substring that some message of the request must hold (besides `match`), e.g. a lesson of past
   * runs given to the model: a script with it fits only requests that carry that text.
   */
  contains: z.string().min(1).optional(),
  turnBy: z.record(z.string(), TurnBy).optional(),
  turns: z.record(z.string(), z.array(Turn)),
});
export type Script = z.infer<typeof Script>;

export const Scenario = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Model name -> role name; a model that is not listed is its own role. */
  roles: z.record(z.string(), z.string().min(1)).optional(),
  scripts: z.array(Script),
});
export type Scenario = z.infer<typeof Scenario>;

/** Validates a scenario, throwing an error that lists every problem with its path. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const res = Scenario.safeParse(input);
  if (!res.success) throw new Error(`invalid scripted-model ${source}:\n${z.prettifyError(res.error)}`);
  return res.data;
}

/** Reads and validates a scenario JSON file. */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`scripted-model scenario ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseScenario(json, `scenario ${path}`);
}

/** The script's name as used in ids and error messages (scripts without a name are `script<index>`). */
export function scriptName(scenario: Scenario, index: number): string {
  return scenario.scripts[index]?.name ?? `script${index}`;
}
