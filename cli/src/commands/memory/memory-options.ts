import { MemoryKind } from '@triad/shared/contracts';
import { type OptionValues, stringOption, UsageError } from '../command.js';

/** `--kind fact|lesson`, or undefined. */
export function kindOption(values: OptionValues): MemoryKind | undefined {
  const kind = stringOption(values, 'kind');
  if (kind === undefined) return undefined;
  const parsed = MemoryKind.safeParse(kind);
  if (!parsed.success) throw new UsageError(`--kind must be one of ${MemoryKind.options.join(', ')}`);
  return parsed.data;
}

/** `--tags a,b` as a list (the API checks each tag), or undefined. */
export function tagsOption(values: OptionValues): string[] | undefined {
  const tags = stringOption(values, 'tags');
  return tags === undefined
    ? undefined
    : tags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
}
