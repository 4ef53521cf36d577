import { describe, expect, it } from '@jest/globals';
import type { RunPhase, RunStatus } from '@triad/contracts';
import { type Admit, admitStage, type Stage } from './loop-rules.js';

const at = (iteration: number, phase: RunPhase, status: RunStatus = 'running') => ({ status, iteration, phase });

// stage, job iteration, run position (null: no run), expected
const TABLE: [Stage, number, ReturnType<typeof at> | null, Admit][] = [
  ['plan', 1, null, 'missing'],
  ['plan', 1, at(1, 'plan'), 'proceed'],
  ['plan', 1, at(1, 'act'), 'repeat-hand-off'],
  ['plan', 1, at(1, 'judge'), 'repeat-hand-off'],
  ['plan', 1, at(2, 'plan'), 'duplicate'],
  ['plan', 2, at(1, 'act'), 'duplicate'],
  ['plan', 1, at(1, 'done', 'succeeded'), 'ended'],
  ['plan', 3, at(1, 'plan', 'cancelled'), 'ended'],
  ['judge', 1, null, 'missing'],
  ['judge', 1, at(1, 'act'), 'proceed'],
  ['judge', 1, at(1, 'judge'), 'proceed'],
  ['judge', 1, at(1, 'plan'), 'duplicate'],
  ['judge', 1, at(2, 'plan'), 'repeat-hand-off'],
  ['judge', 1, at(2, 'act'), 'duplicate'],
  ['judge', 2, at(1, 'act'), 'duplicate'],
  ['judge', 1, at(1, 'done', 'budget_exceeded'), 'ended'],
  ['act', 1, null, 'missing'],
  ['act', 1, at(1, 'act'), 'proceed'],
  ['act', 1, at(3, 'plan'), 'proceed'],
  ['act', 1, at(1, 'done', 'cancelled'), 'proceed'],
];

describe('admitStage', () => {
  it.each(TABLE)('%s job of iteration %d, run at %j: %s', (stage, iteration, run, expected) => {
    expect(admitStage(stage, iteration, run)).toBe(expected);
  });
});
