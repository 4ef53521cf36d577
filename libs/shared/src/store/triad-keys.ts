/**
 * Every Redis key Triad builds (BullMQ builds its own queue keys under the same prefix). A run's keys carry the run
 * id as a hash tag `{...}`, so they land in one cluster slot and a Lua script may touch them together.
 */
export class TriadKeys {
  constructor(readonly prefix: string) {}
  /** The run record (a hash). */
  run = (id: string) => `${this.prefix}:run:{${id}}`;
  /** The run's append-only event stream. */
  events = (id: string) => `${this.prefix}:run:{${id}}:events`;
  /** A value recorded once per run and name: `plan:<iteration>`, `step:<stepId>`, `verdict:<iteration>`. */
  once = (id: string, name: string) => `${this.prefix}:run:{${id}}:once:${name}`;
  /** Tool steps holding one of the run's maxToolCalls: step id -> when it was reserved. */
  admitted = (id: string) => `${this.prefix}:run:{${id}}:admitted`;
  /** The approval gate of one step (a hash). */
  approval = (id: string, stepId: string) => `${this.prefix}:run:{${id}}:approval:${stepId}`;
  /** The memory tools' run scope (a hash). */
  runMemory = (id: string) => `${this.prefix}:run:{${id}}:memory`;
  /** The memory tools' global scope (a hash). */
  globalMemory = () => `${this.prefix}:memory`;
  /** Run ids by creation time (a sorted set). */
  index = () => `${this.prefix}:runs`;
  /** Pending approvals by deadline (a sorted set of `runId stepId`). */
  pendingApprovals = () => `${this.prefix}:approvals:pending`;
  /** The tools executors publish for planners (a hash by tool name). */
  tools = () => `${this.prefix}:tools`;
  /** Gateway: the run id an Idempotency-Key (its sha256) was given. */
  idempotency = (keyHash: string) => `${this.prefix}:idempotency:${keyHash}`;
  /** Gateway: a run submitted but maybe not yet taken in by a planner. */
  submitted = (runId: string) => `${this.prefix}:submitted:${runId}`;
  /** Pub/sub channel of cancelled run ids, for executors to abort tools in flight. */
  cancelChannel = () => `${this.prefix}:cancel`;
}
