import type { RunEvent } from '@triad/shared';

const MAX_DETAIL = 160;

const clip = (s: string, n = MAX_DETAIL) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** One readable terminal line (or a few) per run event, for live views of the loop. */
export function renderEvent(e: RunEvent): string[] {
  switch (e.type) {
    case 'goal.received':
      return [`goal: ${clip(oneLine(e.request.goal), 200)}`];
    case 'goal.rejected':
      return [`goal rejected: ${e.error.message}`];
    case 'thought': {
      const head = `── iteration ${e.iteration} · ${e.stage} ${'─'.repeat(30)}`;
      return e.text ? [head, `  thought   ${clip(oneLine(e.text), 300)}`] : [head];
    }
    case 'tool.called':
      return [`  act       ${e.tool}(${clip(oneLine(e.arguments), 120)})  [${e.stepId}]`];
    case 'observation': {
      const o = e.observation;
      const body = o.ok
        ? `ok ${clip(oneLine(JSON.stringify(o.data)))}`
        : `error ${o.error.code}: ${clip(oneLine(o.error.message))}`;
      return [`  observe   ${e.tool} [${e.stepId}] ${e.durationMs} ms on ${e.executor} → ${body}`];
    }
    case 'answer.proposed':
      return [`── iteration ${e.iteration} · answer proposed`, `  answer    ${clip(oneLine(e.answer), 300)}`];
    case 'reflection': {
      const lines = e.text ? [`  reflect   ${clip(oneLine(e.text), 300)}`] : [];
      return lines;
    }
    case 'verdict':
      return [`  judge     ${e.decision}: ${clip(oneLine(e.reason), 200)}`];
    case 'approval.requested':
      return [
        `  gate      ${e.tool} [${e.stepId}] needs approval ${e.approvalId} (${e.risk}), until ${new Date(e.expiresAt).toISOString()}`,
      ];
    case 'approval.decided':
      return [
        `  gate      ${e.approvalId} ${e.status} by ${e.by}${e.edited ? ' with edited arguments' : ''}${e.reason ? `: ${clip(oneLine(e.reason))}` : ''}`,
      ];
    case 'webhook.delivered':
      return [`  webhook   delivered to ${e.url} (HTTP ${e.status}, attempt ${e.attempts})`];
    case 'webhook.failed':
      return [`  webhook   to ${e.url} failed after ${e.attempts} attempts: ${clip(oneLine(e.error))}`];
    case 'run.queued':
      return [`queued: the tenant has ${e.maxRunsInFlight} runs in flight (priority ${e.priority})`];
    case 'run.admitted':
      return [`admitted after waiting ${e.waitedMs} ms`];
    case 'memory.recalled':
      return e.lessons.map(
        (l) =>
          `  memory    lesson ${l.id} (${l.score.toFixed(2)}${l.untrusted ? ', untrusted' : ''}): ${clip(oneLine(l.text))}`,
      );
    case 'memory.learned':
      return [
        `  memory    learned ${e.lessons.length} lesson(s)${e.duplicates ? `, ${e.duplicates} already known` : ''}`,
        ...e.lessons.map((l) => `            ${l.id}: ${clip(oneLine(l.text))}`),
      ];
    case 'status.changed':
      return e.from === null ? [] : [`run ${e.to}${e.reason ? `: ${clip(oneLine(e.reason), 300)}` : ''}`];
  }
}
