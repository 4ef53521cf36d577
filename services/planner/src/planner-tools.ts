import type { ChatTool, ToolSpec } from '@triad/shared';

/** The tools a run may use, as OpenAI function definitions: the catalog filtered by the goal's allow-list. */
export function toolsForRun(catalog: ToolSpec[], allowList: string[] | undefined): ChatTool[] {
  const allowed = allowList ? new Set(allowList) : null;
  return catalog
    .filter((t) => !allowed || allowed.has(t.name))
    .map((t) => ({
      type: 'function' as const,
      function: { name: t.name, description: t.description, parameters: t.parameters, strict: t.strict },
    }));
}
