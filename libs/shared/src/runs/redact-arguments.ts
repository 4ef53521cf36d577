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

/**
 * Arguments an approver edited from the redacted ones they were shown: each secret argument still reading
 * `[redacted]` gets its value from the original arguments back; anything else is taken as edited.
 */
export function restoreRedacted(edited: string, original: string, secretKeys: readonly string[]): string {
  const e = parseObject(edited);
  const o = parseObject(original);
  if (!e || !o) return edited;
  const kept = secretKeys.filter((key) => e[key] === REDACTED && key in o);
  if (!kept.length) return edited;
  for (const key of kept) e[key] = o[key];
  return JSON.stringify(e);
}

function parseObject(raw: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
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

/** `text` with every occurrence of each value replaced by `[redacted]`. */
export function redactValues(text: string, values: readonly string[]): string {
  return values.reduce((out, value) => out.replaceAll(value, REDACTED), text);
}

/**
 * A copy of a JSON-like value (a tool's observation) with every occurrence of each value replaced by `[redacted]`
 * in every string, keys included: a remote that echoes a secret argument back must not get it recorded.
 */
export function redactValuesDeep<T>(value: T, values: readonly string[]): T {
  if (!values.length) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactValues(v, values);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [redactValues(k, values), walk(inner)]));
    }
    return v;
  };
  return walk(value) as T;
}
