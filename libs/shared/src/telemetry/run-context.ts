import { type Context, context, createContextKey } from '@opentelemetry/api';

const RUN_ID = createContextKey('triad.run.id');

/** The context with the run whose work it carries (log lines read it back). */
export function withRunId(ctx: Context, runId: string): Context {
  return ctx.setValue(RUN_ID, runId);
}

/** The run whose work the current async context is doing, if any. */
export function activeRunId(ctx: Context = context.active()): string | undefined {
  const id = ctx.getValue(RUN_ID);
  return typeof id === 'string' ? id : undefined;
}
