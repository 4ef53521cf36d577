import { describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import type { CaseResult } from './eval-runner.js';
import { summarize } from './eval-summary.js';
import { junitReport } from './junit-report.js';

const result = (name: string, outcome: CaseResult['outcome'], message: string | null = null): CaseResult => ({
  name,
  outcome,
  message,
  runId: outcome === 'error' ? null : `run-${name}`,
  runStatus: outcome === 'error' ? null : 'succeeded',
  latencyMs: 1500,
  tokens: 100,
  costUsd: 0.001,
  gradingTokens: 0,
});

describe('junitReport', () => {
  it('writes one testcase per case with a failure or an error element, escaping what it quotes', () => {
    const results = [
      result('ok', 'passed'),
      result('bad', 'failed', '/a: expected "<x>" & 1'),
      result('err', 'error', 'boom'),
    ];
    const summary = summarize(results, 4000);
    const xml = junitReport('my set', results, summary, new Date('2026-01-02T03:04:05Z'));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
    expect(doc.testsuites).toMatchObject({ '@_tests': '3', '@_failures': '1', '@_errors': '1', '@_time': '4.000' });
    const suite = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ '@_name': 'my set', '@_timestamp': '2026-01-02T03:04:05' });
    const [ok, bad, err] = suite.testcase;
    expect(ok).toMatchObject({ '@_name': 'ok', '@_classname': 'triad.eval.my_set', '@_time': '1.500' });
    expect(ok.failure).toBeUndefined();
    expect(xml).toContain('message="/a: expected &quot;&lt;x&gt;&quot; &amp; 1"');
    expect(bad.failure).toMatchObject({ '@_message': '/a: expected "<x>" & 1', '@_type': 'expectation' });
    expect(err.error).toMatchObject({ '@_message': 'boom', '@_type': 'error' });
  });

  it('summarizes pass rate, tokens, cost and latency percentiles', () => {
    const s = summarize(
      [result('a', 'passed'), result('b', 'failed'), { ...result('c', 'passed'), latencyMs: 3000 }],
      5000,
    );
    expect(s).toMatchObject({ cases: 3, passed: 2, failed: 1, errors: 0, tokens: 300, wallMs: 5000 });
    expect(s.passRate).toBeCloseTo(2 / 3);
    expect(s.costUsd).toBeCloseTo(0.003);
    expect(s.latencyMs).toEqual({ p50: 1500, p95: 3000, max: 3000 });
  });
});
