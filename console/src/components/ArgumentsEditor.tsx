import { useMemo } from 'preact/hooks';
import { z } from 'zod';

export type Checked = { ok: true; value: Record<string, unknown> } | { ok: false; problems: string[] };

/** A validator for a tool's JSON schema (the one the executors publish), or null when it cannot be read. */
export function schemaValidator(schema: Record<string, unknown> | undefined): z.ZodType | null {
  if (!schema) return null;
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return null;
  }
}

/** Edited arguments checked before sending: JSON, an object, and valid against the tool's schema when known. */
export function checkArguments(text: string, validator: z.ZodType | null): Checked {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`not JSON: ${(e as Error).message}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: ['the arguments must be a JSON object'] };
  }
  const parsed = validator?.safeParse(value);
  if (parsed && !parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`),
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** A JSON editor for a gated call's arguments, saying what is wrong with them as they are typed. */
export function ArgumentsEditor(props: {
  id: string;
  text: string;
  onInput: (text: string) => void;
  validator: z.ZodType | null;
}) {
  const checked = useMemo(() => checkArguments(props.text, props.validator), [props.text, props.validator]);
  const problemsId = `${props.id}-problems`;
  return (
    <div class="editor">
      <label for={props.id}>
        Edited arguments (JSON{props.validator ? ", checked against the tool's schema" : ''})
      </label>
      <textarea
        id={props.id}
        rows={Math.min(16, props.text.split('\n').length + 1)}
        spellcheck={false}
        value={props.text}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        aria-invalid={!checked.ok}
        aria-describedby={problemsId}
      />
      <div id={problemsId} aria-live="polite">
        {checked.ok ? (
          <p class="ok">Valid arguments.</p>
        ) : (
          <ul class="error">
            {checked.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
