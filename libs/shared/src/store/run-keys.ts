/**
 * Redis keys of the run store. The run id sits in a hash tag `{...}` so that every key of one run
 * lands in the same cluster slot and the Lua scripts below may touch them together.
 */
export class RunKeys {
  constructor(readonly prefix: string) {}
  run = (id: string) => `${this.prefix}:run:{${id}}`;
  events = (id: string) => `${this.prefix}:run:{${id}}:events`;
  once = (id: string, key: string) => `${this.prefix}:run:{${id}}:once:${key}`;
  /** Tool steps holding one of the run's maxToolCalls: step id -> when it was reserved. */
  admitted = (id: string) => `${this.prefix}:run:{${id}}:admitted`;
  index = () => `${this.prefix}:runs`;
  approval = (id: string, stepId: string) => `${this.prefix}:run:{${id}}:approval:${stepId}`;
  pendingApprovals = () => `${this.prefix}:approvals:pending`;
  cancelChannel = () => `${this.prefix}:cancel`;
}
