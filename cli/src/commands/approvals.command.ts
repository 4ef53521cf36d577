import { approvalsTable } from '../render/run-view.js';
import { type Command, type CommandContext, positionals, printJson, stringOption, UsageError } from './command.js';

/** `triad approvals`: pending gates. */
export const approvalsCommand: Command = {
  name: 'approvals',
  summary: 'list pending approvals (of one run, or of all)',
  help: `approvals [runId]

Lists the gated tool calls waiting for a human decision.
With --json: { approvals: [...] }.`,
  options: {},
  async run(ctx) {
    const [runId] = positionals(ctx, ['[runId]'], 1);
    const approvals = await ctx.client.approvals(runId);
    if (ctx.json) printJson(ctx, { approvals });
    else if (!approvals.length) ctx.out('no pending approvals');
    else for (const line of approvalsTable(approvals)) ctx.out(line);
    return 0;
  },
};

/** `triad approve`: release a gated call, as asked or with edited arguments. */
export const approveCommand: Command = {
  name: 'approve',
  summary: 'approve a gated tool call',
  help: `approve <runId> <approvalId> [--args '<json>']

Approves a pending gated call; the tool runs at once.

Options:
  --args <json>    run it with these arguments instead (a JSON object; the tool validates them again)
With --json: the decided approval record.`,
  options: { args: { type: 'string' } },
  async run(ctx) {
    const [runId, approvalId] = positionals(ctx, ['<runId>', '<approvalId>']);
    const approval = await ctx.client.approve(runId, approvalId, editedArguments(ctx));
    return decided(ctx, approval.status, approval.id, runId, approval.tool, approval);
  },
};

/** `triad reject`: refuse a gated call; the model sees the reason. */
export const rejectCommand: Command = {
  name: 'reject',
  summary: 'reject a gated tool call',
  help: `reject <runId> <approvalId> --reason <text>

Rejects a pending gated call: it is not made, and the model sees the reason.
With --json: the decided approval record.`,
  options: { reason: { type: 'string' } },
  async run(ctx) {
    const [runId, approvalId] = positionals(ctx, ['<runId>', '<approvalId>']);
    const reason = stringOption(ctx.values, 'reason');
    if (!reason?.trim()) throw new UsageError('--reason is required');
    const approval = await ctx.client.reject(runId, approvalId, reason);
    return decided(ctx, approval.status, approval.id, runId, approval.tool, approval);
  },
};

function editedArguments(ctx: CommandContext): Record<string, unknown> | undefined {
  const text = stringOption(ctx.values, 'args');
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--args is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('--args must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function decided(ctx: CommandContext, status: string, id: string, runId: string, tool: string, record: unknown) {
  if (ctx.json) printJson(ctx, record);
  else ctx.out(`${status} ${id} of run ${runId} (${tool})`);
  return 0;
}
