import { describe, expect, it } from '@jest/globals';
import { DatasetError, parseDataset } from './eval-case.js';

describe('parseDataset', () => {
  it('reads goals with their expectations, names and defaults', () => {
    const text = [
      '{"name":"a","goal":"g1","budget":{"maxIterations":3},"expect":{"exact":{"x":1}}}',
      '',
      '{"goal":"g2","expect":{"rubric":"says hello","status":"failed"}}',
      '{"replayOf":"run-1","expect":{"subset":{"x":1}}}',
      '{"replayOf":"run-2","replay":{"liveModel":true,"model":"m2"},"expect":{"exact":"hi"}}',
    ].join('\n');
    const cases = parseDataset(text, 'd.jsonl');
    expect(cases.map((c) => [c.name, c.line, c.request?.goal ?? null, c.replayOf])).toEqual([
      ['a', 1, 'g1', null],
      ['line-3', 3, 'g2', null],
      ['line-4', 4, null, 'run-1'],
      ['line-5', 5, null, 'run-2'],
    ]);
    expect(cases.map((c) => c.replay)).toEqual([null, null, null, { liveModel: true, toolsLive: true, model: 'm2' }]);
    expect(cases[0]?.request?.budget.maxIterations).toBe(3);
    expect(cases[0]?.expect).toEqual({ exact: { x: 1 }, status: 'succeeded' });
    expect(cases[1]?.expect.status).toBe('failed');
  });

  it('names every bad line and path at once', () => {
    const text = [
      'nope',
      '{"goal":"g","expect":{}}',
      '{"goal":"g","expect":{"exact":1,"subset":{}}}',
      '{"goal":"g","tools":"all","expect":{"exact":1}}',
      '{"name":"dup","goal":"g","expect":{"exact":1}}',
      '{"name":"dup","goal":"g","expect":{"exact":1}}',
      '{"goal":"g","outputSchema":{"type":"object","properties":{}},"expect":{"exact":{}}}',
      '{"goal":"g","replay":{"liveModel":true},"expect":{"exact":1}}',
      '{"replayOf":"r","goal":"g","expect":{"exact":1}}',
      '{"replayOf":"r","replay":{"liveModel":"yes"},"expect":{"exact":1}}',
    ].join('\n');
    const thrown = (() => {
      try {
        parseDataset(text, 'd.jsonl');
      } catch (err) {
        return err as Error;
      }
      throw new Error('no error');
    })();
    expect(thrown).toBeInstanceOf(DatasetError);
    const lines = thrown.message.split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^d\.jsonl:1: not JSON/),
      'd.jsonl:2: expect: give exactly one of exact, subset, rubric',
      'd.jsonl:3: expect: give exactly one of exact, subset, rubric',
      expect.stringMatching(/^d\.jsonl:4: tools: /),
      'd.jsonl:6: name "dup" is used twice',
      expect.stringMatching(/^d\.jsonl:7: outputSchema\.additionalProperties: must be false/),
      'd.jsonl:8: replay: replay options need replayOf',
      'd.jsonl:9: a replayOf line replays its run: goal not allowed',
      expect.stringMatching(/^d\.jsonl:10: replay\.liveModel: /),
    ]);
  });

  it('refuses an empty dataset', () => {
    expect(() => parseDataset('\n\n', 'e.jsonl')).toThrow('e.jsonl: no cases');
  });
});
