import {
  ApprovalResponse,
  ApprovalsResponse,
  CancelRunResponse,
  type GoalRequest,
  ListRunsResponse,
  RunCountsResponse,
  RunRecord,
  type RunStatus,
  SubmitRunResponse,
  ToolsResponse,
} from '@triad/contracts';
import { call } from './http.js';

const enc = encodeURIComponent;

export interface RunsFilter {
  status?: RunStatus;
  q?: string;
  cursor?: string;
  limit?: number;
}

export function listRuns(f: RunsFilter) {
  const params = new URLSearchParams({ limit: String(f.limit ?? 25) });
  if (f.status) params.set('status', f.status);
  if (f.q) params.set('q', f.q);
  if (f.cursor) params.set('cursor', f.cursor);
  return call('GET', `/v1/runs?${params}`, ListRunsResponse);
}

export const runCounts = () => call('GET', '/v1/run-counts', RunCountsResponse);
export const getRun = (id: string) => call('GET', `/v1/runs/${enc(id)}`, RunRecord);
export const cancelRun = (id: string) => call('POST', `/v1/runs/${enc(id)}/cancel`, CancelRunResponse, {});
export const submitRun = (goal: GoalRequest) => call('POST', '/v1/runs', SubmitRunResponse, goal);
export const listTools = () => call('GET', '/v1/tools', ToolsResponse);
export const pendingApprovals = (runId?: string) =>
  call('GET', runId ? `/v1/runs/${enc(runId)}/approvals` : '/v1/approvals', ApprovalsResponse);

export const approve = (runId: string, approvalId: string, args?: Record<string, unknown>) =>
  call(
    'POST',
    `/v1/runs/${enc(runId)}/approvals/${enc(approvalId)}/approve`,
    ApprovalResponse,
    args ? { arguments: args } : {},
  );
export const reject = (runId: string, approvalId: string, reason: string) =>
  call('POST', `/v1/runs/${enc(runId)}/approvals/${enc(approvalId)}/reject`, ApprovalResponse, { reason });
