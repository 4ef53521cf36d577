import type { GoalRequest } from '@triad/contracts';

/**
 * Whether the goal allows this tool: a goal without a `tools` list allows every tool the executors offer, an empty
 * list allows none. The planner offers only these tools and the executor refuses any other, so a model reply that
 * names another tool never widens the list.
 */
export function toolAllowed(request: Pick<GoalRequest, 'tools'> | null, tool: string): boolean {
  // No request (a rejected goal) allows nothing: fail closed.
  if (!request) return false;
  return request.tools === undefined || request.tools.includes(tool);
}
