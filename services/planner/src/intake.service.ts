import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  DEFAULT_TENANT,
  forkRefusal,
  forkSeed,
  GoalRequest,
  InvalidInputError,
  JOB_NAMES,
  linkTo,
  modelRefusal,
  priorityOf,
  RUN_ID_PATTERN,
  RunFinisher,
  RunLoop,
  RunStore,
  readParent,
  replayRefusal,
  replaySeed,
  resultsQueueOfGoalData,
  startIteration,
  storeRunId,
  TenantScheduler,
  TenantUsageStore,
  TRIAD_CONFIG,
  type TriadConfig,
  TriadError,
  tenantLimits,
  tenantOfGoalData,
  traceparentOf,
  triadMetrics,
  withRunSpan,
} from '@triad/shared';

/** A delivered `goal` job, as intake sees it. */
export interface GoalDelivery {
  id?: string;
  name: string;
  data: unknown;
}

/** A goal job's data may not exceed this, serialized: it is kept in Redis with the run. */
export const MAX_GOAL_JOB_BYTES = 256 * 1024;

/**
 * Turns a `goal` job into a run: validates it, creates the run once per tenant and runId (its store id), and starts
 * iteration 1, or, when its tenant has maxRunsInFlight runs in flight, leaves it waiting (phase `queued`) for one of
 * them to end (see TenantScheduler). Queue producers are trusted as Redis clients are: the goal's `tenant` is taken
 * as given.
 */
@Injectable()
export class IntakeService {
  private readonly logger = new Logger(IntakeService.name);

  constructor(
    private readonly store: RunStore,
    private readonly finisher: RunFinisher,
    private readonly loop: RunLoop,
    private readonly usage: TenantUsageStore,
    @Inject(TRIAD_CONFIG) private readonly config: TriadConfig,
    private readonly scheduler: TenantScheduler,
  ) {}

  async accept(job: GoalDelivery): Promise<{ runId: string; created: boolean }> {
    const request = this.validate(job);
    if (typeof request === 'string') return this.reject(job, request);
    const tenant = request.tenant ?? DEFAULT_TENANT;
    const runId = storeRunId(tenant, request.runId ?? `run-${job.id}`);
    // Only a tenant with a daily spend cap pays this round trip; a replay that plays its recording asks no model.
    const plays = request.replayOf?.liveModel === false;
    const refused = plays ? null : await this.usage.refusal(tenant, tenantLimits(this.config, tenant));
    if (refused) await this.refuse(job, runId, refused);
    const cap = this.scheduler.capOf(tenant);
    const lineage = await this.lineage(job, runId, request);
    // The run's trace starts here; its traceparent is stored with the run so every later span joins it. A fork's or a
    // replay's links to its parent's trace.
    const workflow = { 'gen_ai.operation.name': 'invoke_workflow', 'gen_ai.workflow.name': 'triad' };
    const links = linkTo(lineage?.parent.run.traceparent, { 'triad.link': lineage?.kind ?? '' });
    const opts = { runId, traceparent: null, attributes: workflow, links };
    return withRunSpan('invoke_workflow triad', opts, async (span) => {
      const created = await this.store.create(runId, request, Date.now(), traceparentOf(), { queued: cap !== null });
      span.setAttribute('triad.run.created', created);
      // Seeding again is a no-op once seeded, and covers a crash between create and seed.
      if (lineage) await this.store.seed(runId, lineage.seed);
      // Starting (or taking a slot) again is harmless and covers a crash between create and start.
      const start = startIteration(request);
      const run = created ? null : await this.store.position(runId);
      const fresh = run?.status === 'running' && run.iteration === start;
      if (cap !== null) {
        if (created || (fresh && (run.phase === 'queued' || run.phase === 'plan'))) {
          const state = await this.scheduler.take(runId, request, cap);
          span.setAttribute('triad.run.queued', state === 'waiting');
          if (created && state === 'waiting') {
            const priority = priorityOf(request);
            await this.store.note(runId, [{ type: 'run.queued', iteration: 1, priority, maxRunsInFlight: cap }]);
          }
        }
      } else if (created || (fresh && run.phase === 'plan')) {
        await this.loop.start(runId, priorityOf(request), start);
      }
      if (created) {
        await this.usage.countRun(tenant);
        triadMetrics.runStarted(runId);
        this.logger.log(`run ${runId} accepted`);
      }
      return { runId, created };
    });
  }

  /**
   * A fork's or a replay's parent and the seed it gives the new run, read when the run is new or may not be seeded yet
   * (a crash between create and seed); null for other runs. A parent that is gone or not where the fork starts
   * rejects the goal (the gateway checks this first and answers 404, 400 or 409).
   */
  private async lineage(job: GoalDelivery, runId: string, request: GoalRequest) {
    const of = request.forkOf ?? request.replayOf;
    if (!of) return null;
    const pos = await this.store.position(runId);
    if (pos.status !== 'gone' && !(pos.status === 'running' && pos.iteration === 1)) return null;
    const tenant = request.tenant ?? DEFAULT_TENANT;
    const parent = await readParent(this.store, tenant, of.runId);
    const refused = !parent
      ? `no run ${of.runId} to ${request.forkOf ? 'fork' : 'replay'}`
      : request.forkOf
        ? forkRefusal(parent, request.forkOf.iteration, request.budget.maxIterations)?.message
        : replayRefusal(parent)?.message;
    if (refused || !parent) return this.refuseLineage(job, runId, pos.status !== 'gone', refused as string);
    if (request.forkOf) return { kind: 'fork', parent, seed: forkSeed(parent, request.forkOf) };
    return { kind: 'replay', parent, seed: replaySeed(parent) };
  }

  /** A fork or replay that cannot start: a new one is rejected; one created unseeded (a crash) fails, never hangs. */
  private async refuseLineage(job: GoalDelivery, runId: string, exists: boolean, reason: string): Promise<never> {
    if (!exists) return this.reject(job, reason);
    const error = { code: 'invalid_goal' as const, message: reason };
    await this.finisher.finish(runId, { status: 'failed', iteration: 1, reason, error });
    throw new InvalidInputError(reason);
  }

  /**
   * Records a goal of a tenant past a daily spend cap as a failed run (`tenant_limit`), then throws the reason. A run
   * that already exists (a redelivered goal) is left to go on as it was.
   */
  private async refuse(job: GoalDelivery, runId: string, reason: string): Promise<void> {
    if (!(await this.store.createRejected(runId, { code: 'tenant_limit', message: reason }))) return;
    await this.finisher.publish(runId);
    this.logger.warn(`goal job ${job.id} refused (run ${runId}): ${reason}`);
    throw new TriadError('tenant_limit', reason, false);
  }

  /** The parsed request, or the reason it was refused. */
  private validate(job: GoalDelivery): GoalRequest | string {
    if (job.name !== JOB_NAMES.goal) return `job ${job.id} on "goals" is named "${job.name}", expected "goal"`;
    const bytes = Buffer.byteLength(JSON.stringify(job.data ?? null));
    if (bytes > MAX_GOAL_JOB_BYTES) return `goal job is ${bytes} bytes, more than the limit of ${MAX_GOAL_JOB_BYTES}`;
    const parsed = GoalRequest.safeParse(job.data);
    if (parsed.success) return modelRefusal(this.config, parsed.data) ?? parsed.data;
    return `invalid goal: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  }

  /** Records the refusal as a failed run, then throws it (the job fails for good: the producer sees the reason too). */
  private async reject(job: GoalDelivery, reason: string): Promise<never> {
    const given = (job.data as { runId?: unknown } | null)?.runId;
    const id = typeof given === 'string' && RUN_ID_PATTERN.test(given) ? given : `rejected-${job.id}`;
    const runId = storeRunId(tenantOfGoalData(job.data), id);
    const created = await this.store.createRejected(runId, { code: 'invalid_goal', message: reason });
    if (created) await this.finisher.publish(runId, resultsQueueOfGoalData(job.data));
    this.logger.warn(`goal job ${job.id} rejected (run ${runId}): ${reason}`);
    throw new InvalidInputError(reason);
  }
}
