import { RunStatus } from '@triad/contracts';
import { useState } from 'preact/hooks';
import { listRuns, runCounts } from '../api/runs.js';
import type { Session } from '../api/session.js';
import { Link } from '../components/Link.js';
import { StatusBadge, when } from '../components/StatusBadge.js';
import { usePoll } from '../components/usePoll.js';
import { navigate, useLocation } from '../router.js';

const PAGE = 25;

/** The tenant's runs, newest first: status tabs with counts, search by id or goal, paging; refreshed every 3 s. */
export function RunsPage(_: { session: Session }) {
  const { query } = useLocation();
  const status = RunStatus.safeParse(query.get('status')).data;
  const q = query.get('q') ?? '';
  const [text, setText] = useState(q);
  // The cursors of the pages before this one: "newer" pops, "older" pushes.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const runs = usePoll(() => listRuns({ status, q: q || undefined, cursor, limit: PAGE }), 3_000, [status, q, cursor]);
  const counts = usePoll(runCounts, 5_000, []);
  const go = (next: { status?: string; q?: string }) => {
    const p = new URLSearchParams();
    const s = 'status' in next ? next.status : status;
    const text = 'q' in next ? next.q : q;
    if (s) p.set('status', s);
    if (text) p.set('q', text);
    setCursors([]);
    navigate(`/runs${p.size ? `?${p}` : ''}`, true);
  };
  const tabs = [
    { s: undefined, n: counts.value?.total },
    ...RunStatus.options.map((s) => ({ s, n: counts.value?.counts[s] })),
  ];
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <div class="toolbar">
        <nav aria-label="Filter by status" class="tabs">
          {tabs.map(({ s, n }) => (
            <button type="button" key={s ?? 'all'} aria-pressed={s === status} onClick={() => go({ status: s })}>
              {s ? s.replace('_', ' ') : 'all'} <span class="count">{n ?? '…'}</span>
            </button>
          ))}
        </nav>
        <search>
          <form
            class="search-form"
            onSubmit={(e) => {
              e.preventDefault();
              go({ q: text.trim() });
            }}
          >
            <label for="run-search">Search runs</label>
            <input
              id="run-search"
              type="search"
              placeholder="run id or goal text"
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
            <button type="submit">Search</button>
          </form>
        </search>
      </div>
      {runs.error && (
        <p role="alert" class="error">
          {runs.error}
        </p>
      )}
      <table class="runs">
        <caption class="sr-only">Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Goal</th>
            <th scope="col">Iteration</th>
            <th scope="col">Tokens</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {runs.value?.runs.map((r) => (
            <tr key={r.id} data-run-id={r.id}>
              <td>
                <Link to={`/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link>
              </td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td class="goal">{r.request?.goal ?? '(not readable)'}</td>
              <td>{r.iteration}</td>
              <td>{r.usage.inputTokens + r.usage.outputTokens}</td>
              <td>{when(r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs.value && runs.value.runs.length === 0 && <p>No runs{status || q ? ' match' : ' yet'}.</p>}
      <div class="pager">
        <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          disabled={!runs.value?.nextCursor}
          onClick={() => runs.value?.nextCursor && setCursors((c) => [...c, runs.value?.nextCursor as string])}
        >
          Older
        </button>
      </div>
    </section>
  );
}
