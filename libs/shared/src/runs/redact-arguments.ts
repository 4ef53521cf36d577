/** What a secret argument's value is replaced with in events and records. */
export const REDACTED = '[redacted]';

/**
 * A tool call's raw JSON arguments with the named top-level properties replaced by `[redacted]`. Arguments that
 * are not a JSON object cannot be checked, so they are withheld whole when the tool has any secret argument.
 */
export function redactArguments(raw: string, secretKeys: readonly string[]): string {
  if (!secretKeys.length) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return `${REDACTED} (arguments are not JSON)`;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return `${REDACTED} (arguments are not an object)`;
  const out = { ...(parsed as Record<string, unknown>) };
  for (const key of secretKeys) if (key in out && out[key] !== null) out[key] = REDACTED;
  return JSON.stringify(out);
}

/** The string values of the named top-level properties of a tool call's JSON arguments (none if unreadable). */
export function secretValues(raw: string, secretKeys: readonly string[]): string[] {
  if (!secretKeys.length) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
    const args = parsed as Record<string, unknown>;
    return secretKeys.map((key) => args[key]).filter((v): v is string => typeof v === 'string' && v.length > 0);
  } catch {
    return [];
  }
}

/** `text` with every occurrence of each value replaced by `[redacted]`, e.g. a tool result quoting its token. */
export function redactValues(text: string, values: readonly string[]): string {
  return values.reduce((out, value) => out.replaceAll(value, REDACTED), text);
}
