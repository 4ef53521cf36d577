import { describe, expect, it } from '@jest/globals';
import type { RunRecord, StoredRunEvent } from '@triad/shared';
import { renderTraceTree, traceIdOf } from './trace-tree.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const run: RunRecord = {
  schemaVersion: 1,
  id: 'r1',
  tenant: 'default',
  status: 'succeeded',
  phase: 'done',
  iteration: 2,
  request: { goal: 'g', budget: { maxIterations: 6, maxToolCalls: 20 } } as RunRecord['request'],
  usage: { inputTokens: 120, outputTokens: 30, modelCalls: 3, toolCalls: 2, costUsd: 0 },
  createdAt: 1,
  updatedAt: 2,
  finishedAt: 2,
  answer: 'It is 42.',
  error: null,
  traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
};
let n = 0;
const ev = (e: Record<string, unknown>) => ({ at: 1, id: `1-${n++}`, ...e }) as StoredRunEvent;
const events: StoredRunEvent[] = [
  ev({ type: 'goal.received', iteration: 0, request: run.request }),
  ev({
    type: 'thought',
    iteration: 1,
    stage: 'interpret',
    text: 'Work it out.',
    model: 'm',
    inputTokens: 50,
    outputTokens: 10,
  }),
  ev({ type: 'tool.called', iteration: 1, stepId: '1-0', callId: 'c1', tool: 'calculator', arguments: '{}' }),
  ev({ type: 'tool.called', iteration: 1, stepId: '1-1', callId: 'c2', tool: 'read_file', arguments: '{}' }),
  ev({
    type: 'observation',
    iteration: 1,
    stepId: '1-0',
    callId: 'c1',
    tool: 'calculator',
    executor: 'e1',
    durationMs: 3,
    observation: { ok: true, data: { result: 42 } },
  }),
  ev({
    type: 'observation',
    iteration: 1,
    stepId: '1-1',
    callId: 'c2',
    tool: 'read_file',
    executor: 'e1',
    durationMs: 7,
    observation: { ok: false, error: { code: 'tool_error', message: 'no such file', retryable: false } },
  }),
  ev({ type: 'verdict', iteration: 1, decision: 'continue', reason: 'next iteration' }),
  ev({ type: 'thought', iteration: 2, stage: 'plan', text: '', model: 'm', inputTokens: 70, outputTokens: 20 }),
  ev({ type: 'answer.proposed', iteration: 2, answer: 'It is 42.' }),
  ev({ type: 'verdict', iteration: 2, decision: 'accept', reason: 'answer accepted' }),
];

describe('renderTraceTree', () => {
  it('draws each iteration as a branch with thought, tool calls, results and verdict', () => {
    const jaeger = { url: 'http://localhost:16686', traceId: TRACE, outcome: 'found' as const };
    expect(renderTraceTree(run, events, { jaeger })).toEqual([
      'run r1 · succeeded · 2 iteration(s)',
      `trace ${TRACE}`,
      `jaeger http://localhost:16686/trace/${TRACE}`,
      '├─ iteration 1',
      '│  ├─ plan m · 50+10 tokens · Work it out.',
      '│  ├─ execute_tool calculator [1-0] 3 ms → ok {"result":42}',
      '│  ├─ execute_tool read_file [1-1] 7 ms → tool_error: no such file',
      '│  └─ judge continue · next iteration',
      '└─ iteration 2',
      '   ├─ plan m · 70+20 tokens',
      '   ├─ answer proposed · It is 42.',
      '   └─ judge accept · answer accepted',
      'tokens 120 in / 30 out · 3 model calls · 2 tool calls',
      'answer It is 42.',
    ]);
  });

  it('says so when the run has no trace, and links nothing', () => {
    const jaeger = { url: 'http://j', traceId: TRACE, outcome: 'found' as const };
    const lines = renderTraceTree({ ...run, traceparent: undefined }, [], { jaeger });
    expect(lines[1]).toBe('trace (none recorded)');
    expect(lines.some((l) => l.startsWith('jaeger'))).toBe(false);
  });

  it('links a trace only when Jaeger holds it, and says why not otherwise', () => {
    const at = (outcome: 'missing' | 'unreachable') =>
      renderTraceTree(run, events, {
        jaeger:
          outcome === 'missing'
            ? { url: 'http://j:16686', traceId: TRACE, outcome }
            : { url: 'http://j:16686', traceId: TRACE, outcome, detail: 'ECONNREFUSED' },
      })[2];
    expect(at('missing')).toMatch(
      new RegExp(
        `^jaeger: http://j:16686 has no trace ${TRACE}: nothing of this run was exported there .*OTEL_EXPORTER_OTLP_ENDPOINT`,
      ),
    );
    expect(at('unreachable')).toBe(
      `jaeger: could not ask http://j:16686 about trace ${TRACE} (ECONNREFUSED); no link printed`,
    );
    expect([at('missing'), at('unreachable')].join('\n')).not.toContain('/trace/');
  });

  it('reads the trace id out of a traceparent only when it is well formed', () => {
    expect(traceIdOf(`00-${TRACE}-00f067aa0ba902b7-01`)).toBe(TRACE);
    expect(traceIdOf('garbage')).toBeNull();
    expect(traceIdOf(undefined)).toBeNull();
  });
});
