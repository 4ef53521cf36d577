import { REDACTED } from '../runs/redact-arguments.js';

// Shorter values would also match ordinary words (a placeholder key like "x"), which would garble every message.
const MIN_KNOWN_LENGTH = 8;
const known = new Set<string>();

// Credential shapes a provider or library may echo back: an Authorization value, an OpenAI-style key, a key field.
const PATTERNS: [RegExp, string][] = [
  // Six characters at least, so prose ("the bearer of") is left alone.
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi, `$1${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(api[_-]?key["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, `$1${REDACTED}`],
];

/** Registers this process's own credentials (API keys, secrets) so `scrubCredentials` removes them verbatim. */
export function registerCredentials(...values: (string | null | undefined)[]): void {
  for (const value of values) if (value && value.length >= MIN_KNOWN_LENGTH) known.add(value);
}

/**
 * The text with credentials replaced by `[redacted]`: every registered value, `Bearer …` values, `sk-…`
 * keys and `api_key=…` fields. Applied to every error message before it is stored, sent, logged or traced.
 */
export function scrubCredentials(text: string): string {
  let out = text;
  for (const value of known) out = out.replaceAll(value, REDACTED);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
