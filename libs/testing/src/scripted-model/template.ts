export const MISSING = '<missing>';

const TOKEN = /\{\{tool:([^{}]+?)\}\}/g;

/**
 * Replaces `{{tool:<id>}}` with the content of the tool message with that tool_call_id and `{{tool:<id>.<path>}}`
 * with the value at that dot path in its JSON; anything that cannot be resolved becomes `<missing>`.
 */
export function renderTemplate(text: string, outputs: ReadonlyMap<string, string>): string {
  return text.replace(TOKEN, (_token, ref: string) => resolve(ref.trim(), outputs));
}

/** renderTemplate applied to every string inside a JSON-like value (keys are left alone). */
export function renderTemplateDeep(value: unknown, outputs: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return renderTemplate(value, outputs);
  if (Array.isArray(value)) return value.map((v) => renderTemplateDeep(v, outputs));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderTemplateDeep(v, outputs)]));
  }
  return value;
}

function resolve(ref: string, outputs: ReadonlyMap<string, string>): string {
  const whole = outputs.get(ref);
  if (whole !== undefined) return whole;
  // Ids may themselves contain dots, so the id is the longest known one that the reference starts with.
  let id: string | undefined;
  for (const known of outputs.keys()) {
    if (ref.startsWith(`${known}.`) && (id === undefined || known.length > id.length)) id = known;
  }
  if (id === undefined) return MISSING;
  let value: unknown;
  try {
    value = JSON.parse(outputs.get(id) ?? '');
  } catch {
    return MISSING;
  }
  for (const key of ref.slice(id.length + 1).split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return MISSING;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
