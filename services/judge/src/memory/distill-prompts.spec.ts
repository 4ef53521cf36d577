import { describe, expect, it } from '@jest/globals';
import { BadModelReplyError, GoalRequest, type RunEvent, type RunRecord } from '@triad/shared';
import { distillationSchema, distillMessages, parseDistillation } from './distill-prompts.js';

const reply = (lessons: unknown) => JSON.stringify({ lessons });

describe('parseDistillation', () => {
  it('takes up to three lessons, trimmed, with tags made valid (lowercase, no spaces, distinct)', () => {
    const lessons = parseDistillation(
      reply([
        { text: '  The booking API wants dates as YYYY-MM-DD.  ', tags: ['HTTP Get', 'dates', 'dates', 'a,b', ' '] },
        { text: 'Read the file list before reading files.', tags: [] },
      ]),
    );
    expect(lessons).toEqual([
      { text: 'The booking API wants dates as YYYY-MM-DD.', tags: ['http-get', 'dates', 'a-b'] },
      { text: 'Read the file list before reading files.', tags: [] },
    ]);
  });

  it('accepts an empty list: a run may teach nothing', () => {
    expect(parseDistillation(reply([]))).toEqual([]);
  });

  it('refuses the whole reply when any part is wrong, so nothing half-valid is stored', () => {
    expect(() => parseDistillation('not json')).toThrow(BadModelReplyError);
    expect(() => parseDistillation(reply([{ text: 'ok', tags: [] }, { text: 'no tags' }]))).toThrow(BadModelReplyError);
    const four = Array.from({ length: 4 }, (_, i) => ({ text: `lesson ${i}`, tags: [] }));
    expect(() => parseDistillation(reply(four))).toThrow(BadModelReplyError);
    expect(() =>
      parseDistillation(
        reply([
          { text: 'fine', tags: [] },
          { text: '   ', tags: [] },
        ]),
      ),
    ).toThrow(/lesson 2 has 0 characters/);
    expect(() => parseDistillation(reply([{ text: 'x'.repeat(2_001), tags: [] }]))).toThrow(BadModelReplyError);
  });

  it('asks for strict structured output: every property required, nothing else allowed, three lessons at most', () => {
    const { schema } = distillationSchema();
    expect(schema).toMatchObject({
      type: 'object',
      required: ['lessons'],
      additionalProperties: false,
      properties: {
        lessons: {
          type: 'array',
          maxItems: 3,
          items: { type: 'object', required: ['text', 'tags'], additionalProperties: false },
        },
      },
    });
  });
});

describe('distillMessages', () => {
  const request = GoalRequest.parse({ goal: 'Book a room for March 5' });
  const run = {
    id: 'r1',
    tenant: 'default',
    status: 'succeeded',
    iteration: 3,
    request,
    answer: 'Booked.',
    error: null,
  } as unknown as RunRecord;
  const at = 0;
  const events: RunEvent[] = [
    { type: 'tool.called', iteration: 1, at, stepId: '1-0', callId: 'c1', tool: 'http_get', arguments: '{"d":"x"}' },
    {
      type: 'observation',
      iteration: 1,
      at,
      stepId: '1-0',
      callId: 'c1',
      tool: 'http_get',
      executor: 'e',
      durationMs: 1,
      observation: { ok: true, data: { status: 400, body: 'dates must be YYYY-MM-DD' } },
    },
    { type: 'reflection', iteration: 1, at, text: 'Use an ISO date.', checks: [], model: 'judge' },
    { type: 'verdict', iteration: 1, at, decision: 'continue', reason: 'next iteration' },
  ];

  it('shows the goal, the outcome and every call, result, critique and verdict, oldest first', () => {
    const [system, user] = distillMessages(run, events);
    expect(system?.role).toBe('system');
    const text = String(user?.content);
    expect(text.startsWith('Distil lessons from this finished run.')).toBe(true);
    expect(text).toContain('Goal:\nBook a room for March 5');
    expect(text).toContain('Outcome: the run succeeded in 3 iterations with the answer: Booked.');
    const order = ['call c1: http_get', 'dates must be YYYY-MM-DD', "judge's critique: Use an ISO date.", 'verdict'];
    const positions = order.map((s) => text.indexOf(s));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});
