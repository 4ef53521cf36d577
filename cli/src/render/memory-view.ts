import type { MemoryEntry, MemoryMatch } from '@triad/shared/contracts';
import { table } from './run-view.js';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** Where an entry came from: `judge run-1`, `tool run-1/3-0`, or `api`. */
const source = (m: MemoryEntry) =>
  m.source.runId
    ? `${m.source.origin} ${m.source.runId}${m.source.stepId ? `/${m.source.stepId}` : ''}`
    : m.source.origin;
const text = (m: MemoryEntry) => `${m.untrusted ? '[untrusted] ' : ''}${clip(oneLine(m.text), 70)}`;

/** The `triad memory ls` table. */
export function memoriesTable(entries: MemoryEntry[]): string[] {
  return table(
    ['ID', 'KIND', 'CREATED (UTC)', 'TAGS', 'SOURCE', 'TEXT'],
    entries.map((m) => [m.id, m.kind, time(m.createdAt), m.tags.join(',') || '-', source(m), text(m)]),
  );
}

/** The `triad memory search` table, closest first. */
export function matchesTable(matches: MemoryMatch[]): string[] {
  return table(
    ['ID', 'SCORE', 'KIND', 'TAGS', 'SOURCE', 'TEXT'],
    matches.map(({ entry: m, score }) => [m.id, score.toFixed(3), m.kind, m.tags.join(',') || '-', source(m), text(m)]),
  );
}
