import type { RunEvent } from '@triad/shared';

/** The loop stage each event belongs to, for checking that a run went interpret → plan → act → observe → reflect. */
export function stageOf(e: RunEvent): string | null {
  switch (e.type) {
    case 'thought':
      return e.stage;
    case 'tool.called':
      return 'act';
    case 'observation':
      return 'observe';
    case 'answer.proposed':
      return 'answer';
    case 'reflection':
      return 'reflect';
    default:
      return null;
  }
}

/** Stages per iteration, consecutive repeats collapsed: e.g. { 1: ['interpret','act','observe','reflect'] }. */
export function stagesByIteration(events: RunEvent[]): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const e of events) {
    const stage = stageOf(e);
    if (!stage) continue;
    out[e.iteration] ??= [];
    const list = out[e.iteration];
    if (list[list.length - 1] !== stage) list.push(stage);
  }
  return out;
}
