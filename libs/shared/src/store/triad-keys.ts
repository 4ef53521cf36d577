import { DEFAULT_TENANT } from '@triad/contracts';

/**
 * Every Redis key Triad builds. BullMQ builds its own queue keys under the configured prefix (`<prefix>:<queue>:...`);
 * Triad's own keys live under the same name without braces: with `TRIAD_PREFIX={triad}`, the queues' keys are
 * `{triad}:goals:...` and Triad's are `triad:run:{<id>}`, `triad:runs`, ...
 *
 * Where each key hashes on a Redis Cluster (the slot comes from the first `{...}` of a key, else the whole key):
 * - every queue key hashes on the prefix's tag (`triad`): all queues share one slot, which BullMQ needs (a flow's
 *   parent on `judge` and its children on `act` are moved by one script);
 * - a run's keys hash on the run's store id (which names its tenant): runs spread over the slots, and a script may
 *   touch one run's keys together;
 * - a tenant's usage and fair-scheduling keys hash on the tenant;
 * - the rest (a tenant's run index and pending approvals, the tool catalog, idempotency keys, ...) hash on their
 *   whole name, each in a slot of its own: no script touches them with another key.
 * Were Triad's keys under `{triad}` too, their first tag would be the prefix's and everything would share one slot.
 * A single Redis therefore must not serve both a `triad` and a `{triad}` deployment. A tenant's own keys live under
 * `<prefix>:tenant:<tenant>:`; the default tenant's are where they were before tenants existed.
 */
export class TriadKeys {
  /** The prefix of Triad's own keys: the configured prefix without the braces of its hash tag. */
  readonly prefix: string;
  constructor(queuePrefix: string) {
    this.prefix = ownKeyPrefix(queuePrefix);
  }
  private tenantKey = (tenant: string, name: string) =>
    tenant === DEFAULT_TENANT ? `${this.prefix}:${name}` : `${this.prefix}:tenant:${tenant}:${name}`;
  /** The run record (a hash). */
  run = (id: string) => `${this.prefix}:run:{${id}}`;
  /** The run's append-only event stream. */
  events = (id: string) => `${this.prefix}:run:{${id}}:events`;
  /**
   * The run's ledger: each value recorded once per run and name (a hash by name: `plan:<iteration>`, `step:<stepId>`,
   * `verdict:<iteration>`; a replay also holds its parent's entries as `rec:<name>`, its recording).
   */
  once = (id: string) => `${this.prefix}:run:{${id}}:once`;
  /** Tool steps holding one of the run's maxToolCalls: step id -> when it was reserved. */
  admitted = (id: string) => `${this.prefix}:run:{${id}}:admitted`;
  /** The approval gate of one step (a hash). */
  approval = (id: string, stepId: string) => `${this.prefix}:run:{${id}}:approval:${stepId}`;
  /** The memory tools' run scope (a hash). */
  runMemory = (id: string) => `${this.prefix}:run:{${id}}:memory`;
  /** The run's keys whose names are not fixed (its approval gates): a set, so they expire and go with the run. */
  runExtraKeys = (id: string) => `${this.prefix}:run:{${id}}:keys`;
  /** Every fixed-name key of a run (lua/retire.lua also takes the keys listed in runExtraKeys). */
  runKeys = (id: string) => [
    this.run(id),
    this.events(id),
    this.once(id),
    this.admitted(id),
    this.runMemory(id),
    this.runExtraKeys(id),
  ];
  /** The memory tools' widest scope, shared by a tenant's runs (a hash). */
  tenantMemory = (tenant: string) => this.tenantKey(tenant, 'memory');
  /** A tenant's run store ids by creation time (a sorted set). */
  index = (tenant: string) => this.tenantKey(tenant, 'runs');
  /** A tenant's pending approvals by deadline (a sorted set of `<run store id>/<stepId>`). */
  pendingApprovals = (tenant: string) => this.tenantKey(tenant, 'approvals:pending');
  /**
   * A tenant's usage of one UTC day (a hash, see TenantUsageStore): spent and reserved tokens and cost, runs started.
   * The tenant is the hash tag, so the usage scripts touch one slot.
   */
  tenantUsage = (tenant: string, day: string) => this.tenantKey(tenant, `usage:{${tenant}}:${day}`);
  /** A tenant's model-call reservations in flight: reservation id -> deadline (a sorted set). */
  tenantReservations = (tenant: string) => this.tenantKey(tenant, `usage:{${tenant}}:reservations`);
  /** What each of a tenant's reservations holds: reservation id -> `<day> <tokens> <cost nano-USD>` (a hash). */
  tenantReserved = (tenant: string) => this.tenantKey(tenant, `usage:{${tenant}}:reserved`);
  /**
   * Fair scheduling (store/tenant-slots.ts): a tenant's runs in flight (a sorted set, run store id -> when admitted),
   * its waiting runs (a sorted set by priority then arrival) and its arrival counter. Hash-tagged by tenant: one
   * cluster slot, so one script moves runs between them.
   */
  inFlight = (tenant: string) => this.tenantKey(tenant, `{${tenant}}:inflight`);
  waiting = (tenant: string) => this.tenantKey(tenant, `{${tenant}}:waiting`);
  arrivals = (tenant: string) => this.tenantKey(tenant, `{${tenant}}:arrivals`);
  /**
   * Semantic memory (memory/memory-store.ts), hash-tagged by tenant so one script moves a tenant's entries: an entry (a
   * hash), the tenant's entry ids by creation (a sorted set: listing, the per-tenant cap) and by expiry (a sorted set:
   * retention), the ids written by one run (a set), the change log every replica's index follows (a stream) and the
   * id counter.
   */
  memoryEntry = (tenant: string, id: string) => this.tenantKey(tenant, `mem:{${tenant}}:e:${id}`);
  memoryByCreation = (tenant: string) => this.tenantKey(tenant, `mem:{${tenant}}:created`);
  memoryByExpiry = (tenant: string) => this.tenantKey(tenant, `mem:{${tenant}}:expires`);
  memoryBySourceRun = (tenant: string, runId: string) => this.tenantKey(tenant, `mem:{${tenant}}:run:${runId}`);
  memoryLog = (tenant: string) => this.tenantKey(tenant, `mem:{${tenant}}:log`);
  memorySeq = (tenant: string) => this.tenantKey(tenant, `mem:{${tenant}}:seq`);
  /** Every tenant that has stored a memory (a set), for the memory's retention sweep. */
  memoryTenants = () => `${this.prefix}:mem:tenants`;
  /** Held by the one planner sweeping expired memories (a string with a TTL). */
  memorySweepLock = () => `${this.prefix}:mem:sweep`;
  /** Every tenant that has had a run (a set), for the run index's retention sweep. */
  tenants = () => `${this.prefix}:tenants`;
  /** Held by the one replica sweeping the run indexes for runs gone by retention (a string with a TTL). */
  retentionSweepLock = () => `${this.prefix}:retention:sweep`;
  /** Producers' own results queues (GoalRequest.resultsQueue): queue name -> when a result was last published there. */
  resultsQueues = () => `${this.prefix}:results:queues`;
  /** The tenants that have had a waiting or in-flight run (a set), for the planners' repair sweep. */
  scheduledTenants = () => `${this.prefix}:sched:tenants`;
  /** Fair intake: a tenant's goals enqueued with a fair priority and not yet taken in (a counter, see GoalBacklog). */
  goalBacklog = (tenant: string) => this.tenantKey(tenant, 'goals:backlog');
  /** The tools executors publish for planners (a hash by tool name). */
  tools = () => `${this.prefix}:tools`;
  /** Gateway: the run id an Idempotency-Key (its sha256) was given in a tenant. */
  idempotency = (tenant: string, keyHash: string) => this.tenantKey(tenant, `idempotency:${keyHash}`);
  /** Gateway: a run submitted but maybe not yet taken in by a planner. */
  submitted = (runId: string) => `${this.prefix}:submitted:${runId}`;
  /** Pub/sub channel of cancelled run ids, for executors to abort tools in flight. */
  cancelChannel = () => `${this.prefix}:cancel`;
}

/** The prefix of Triad's own keys for a configured (BullMQ) prefix: `{triad}` -> `triad`, `triad` -> `triad`. */
export function ownKeyPrefix(queuePrefix: string): string {
  return queuePrefix.replace(/^\{(.*)\}$/, '$1');
}
