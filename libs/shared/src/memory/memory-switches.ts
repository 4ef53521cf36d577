import type { GoalRequest } from '@triad/contracts';
import { type TriadConfig, tenantLimits } from '../config/triad-config.js';

// Both steps of learning from past runs are on by default; a goal (GoalRequest.memory) or its tenant
// (TRIAD_TENANT_LIMITS `memory`) can turn either off, and a goal cannot turn on what its tenant turned off.

type Switches = Pick<TriadConfig, 'tenantLimits'>;

/** Whether the planner gives this run's first plan the tenant's lessons closest to the goal. */
export function recallEnabled(config: Switches, tenant: string, request: Pick<GoalRequest, 'memory'>): boolean {
  return request.memory?.recall !== false && tenantLimits(config, tenant).memory?.recall !== false;
}

/** Whether the judge distils lessons from this run when it ends. */
export function learnEnabled(config: Switches, tenant: string, request: Pick<GoalRequest, 'memory'>): boolean {
  return request.memory?.learn !== false && tenantLimits(config, tenant).memory?.learn !== false;
}
