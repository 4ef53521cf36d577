import { z } from 'zod';

/** Run ids become part of BullMQ job ids and Redis keys: no ':' and nothing exotic. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const RunId = z
  .string()
  .regex(
    RUN_ID_PATTERN,
    'must be 1-128 characters of letters, digits, "_", "." or "-", starting with a letter or digit',
  );

/**
 * Tenants: every run, key, approval and usage figure belongs to one. A tenant id is lower-case letters, digits, `_`
 * and `-`; neither it nor a run id may contain `~`, which joins the two into the run's store id.
 */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const DEFAULT_TENANT = 'default';

export const TenantId = z
  .string()
  .regex(
    TENANT_PATTERN,
    'must be 1-63 characters of lower-case letters, digits, "_" or "-", starting with a letter or digit',
  );
export type TenantId = z.infer<typeof TenantId>;

const SEPARATOR = '~';

/**
 * The id a run has inside Triad (its Redis keys, its jobs and their ids): the caller's run id, prefixed with
 * `<tenant>~` for every tenant but `default`. The same run id in two tenants is two runs.
 */
export function storeRunId(tenant: string, runId: string): string {
  return tenant === DEFAULT_TENANT ? runId : `${tenant}${SEPARATOR}${runId}`;
}

/** The tenant a goal job's raw data names: its `tenant` when that is a valid tenant id, else the default one. */
export function tenantOfGoalData(data: unknown): string {
  const t = (data as { tenant?: unknown } | null)?.tenant;
  return typeof t === 'string' && TENANT_PATTERN.test(t) ? t : DEFAULT_TENANT;
}

/** The tenant and the caller's run id of a store id. */
export function splitStoreRunId(storeId: string): { tenant: string; runId: string } {
  const at = storeId.indexOf(SEPARATOR);
  return at < 0
    ? { tenant: DEFAULT_TENANT, runId: storeId }
    : { tenant: storeId.slice(0, at), runId: storeId.slice(at + 1) };
}

/** A run's store id, as job payloads carry it. */
export const StoreRunId = z.string().refine((s) => {
  const { tenant, runId } = splitStoreRunId(s);
  return TENANT_PATTERN.test(tenant) && RUN_ID_PATTERN.test(runId);
}, 'must be a run id, or <tenant>~<run id>');
