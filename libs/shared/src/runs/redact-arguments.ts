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
