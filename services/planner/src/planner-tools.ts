import { type ChatTool, type GoalRequest, type ToolSpec, toolAllowed } from '@triad/shared';

/** The tools a run may use, as OpenAI function definitions: the catalog filtered by the goal's allow-list. */
export function toolsForRun(catalog: ToolSpec[], request: Pick<GoalRequest, 'tools'>): ChatTool[] {
  return catalog
    .filter((t) => toolAllowed(request, t.name))
    .map((t) => ({
      type: 'function' as const,
      function: { name: t.name, description: t.description, parameters: t.parameters, strict: t.strict },
    }));
}
