import { XMLBuilder } from 'fast-xml-parser';
import type { CaseResult } from './eval-runner.js';
import type { EvalSummary } from './eval-summary.js';

const secs = (ms: number) => (ms / 1000).toFixed(3);

/**
 * The eval as a JUnit XML report, the format CI systems read: one testsuite (the dataset), one testcase per case, a
 * `failure` for a result that missed its expectation, an `error` for a case with no result to judge.
 */
export function junitReport(dataset: string, results: CaseResult[], summary: EvalSummary, at: Date): string {
  const counts = {
    '@_tests': summary.cases,
    '@_failures': summary.failed,
    '@_errors': summary.errors,
    '@_skipped': 0,
    '@_time': secs(summary.wallMs),
  };
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'triad eval',
      ...counts,
      testsuite: {
        '@_name': dataset,
        ...counts,
        '@_timestamp': at.toISOString().slice(0, 19),
        properties: {
          property: [
            { '@_name': 'passRate', '@_value': summary.passRate.toFixed(4) },
            { '@_name': 'tokens', '@_value': summary.tokens },
            { '@_name': 'costUsd', '@_value': summary.costUsd.toFixed(6) },
          ],
        },
        testcase: results.map((r) => testcase(dataset, r)),
      },
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true });
  return builder.build(doc);
}

function testcase(dataset: string, r: CaseResult): Record<string, unknown> {
  const out = [
    `run ${r.runId ?? '(none)'}: ${r.runStatus ?? 'not run'}`,
    `latency ${secs(r.latencyMs)} s, ${r.tokens} tokens, $${r.costUsd.toFixed(6)}`,
    ...(r.gradingTokens ? [`grading ${r.gradingTokens} tokens`] : []),
    ...(r.outcome === 'passed' && r.message ? [`grader: ${r.message}`] : []),
  ].join('\n');
  const problem = r.outcome === 'passed' ? {} : { [r.outcome === 'failed' ? 'failure' : 'error']: detail(r) };
  return {
    '@_name': r.name,
    '@_classname': `triad.eval.${dataset.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    '@_time': secs(r.latencyMs),
    ...problem,
    'system-out': out,
  };
}

const detail = (r: CaseResult) => ({
  '@_message': r.message ?? r.outcome,
  '@_type': r.outcome === 'failed' ? 'expectation' : 'error',
  '#text': r.message ?? '',
});
