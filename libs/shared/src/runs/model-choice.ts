import type { GoalRequest } from '@triad/contracts';
import type { TriadConfig } from '../config/triad-config.js';

/**
 * Why a goal may not use the model it names, or null. A goal's `model` (a fork's, a live replay's) must be the
 * planner's own or one of TRIAD_ALLOWED_MODELS: a caller cannot pick a model the deployment did not price or choose
 * (an unpriced model would add nothing to a tenant's cost cap). Checked at the gateway, at intake, and before the call.
 */
export function modelRefusal(config: TriadConfig, request: Pick<GoalRequest, 'model'>): string | null {
  const { model } = request;
  if (model === undefined || config.model.allowedModels.includes(model)) return null;
  return `model "${model}" is not allowed here (allowed: ${config.model.allowedModels.join(', ')}; TRIAD_ALLOWED_MODELS adds others)`;
}
