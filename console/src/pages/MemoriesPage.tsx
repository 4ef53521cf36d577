import { MemoryKind, type MemoryMatch } from '@triad/contracts';
import { useState } from 'preact/hooks';
import { messageOf } from '../api/http.js';
import { deleteMemory, listMemories, searchMemories } from '../api/memories.js';
import { can, type Session } from '../api/session.js';
import { MemorySource, UntrustedBadge } from '../components/MemoryText.js';
import { when } from '../components/StatusBadge.js';
import { usePoll } from '../components/usePoll.js';

const PAGE = 25;
/** The poll interval of a search: a day, i.e. not repeated while the page is open. */
const NEVER_AGAIN = 86_400_000;

type Filter = { query: string; kind: MemoryKind | ''; tags: string };

/**
 * The tenant's long-term memory: the newest entries, or with a query the closest in meaning; filtered by kind and
 * tags. A key that may submit can delete an entry (after a confirmation); a read-only key sees no delete button.
 */
export function MemoriesPage(props: { session: Session }) {
  const [form, setForm] = useState<Filter>({ query: '', kind: '', tags: '' });
  const [applied, setApplied] = useState<Filter>(form);
  const [cursors, setCursors] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const cursor = cursors.at(-1);
  const tags = applied.tags.split(/[\s,]+/).filter(Boolean);
  const kind = applied.kind || undefined;
  const searching = applied.query.trim() !== '';
  // Without a query: the newest entries, page by page, read again every 10 s. With one: the closest matches (no
  // paging: top 20), read once (each search embeds the query), and again after a delete.
  const rows = usePoll(
    async (): Promise<MemoryMatch[] | { entry: MemoryMatch['entry']; score: null }[]> => {
      if (searching)
        return (await searchMemories({ query: applied.query, k: 20, kind, tags: tags.length ? tags : undefined }))
          .matches;
      const page = await listMemories({ kind, tags, cursor, limit: PAGE });
      setNext(page.nextCursor);
      return page.memories.map((entry) => ({ entry, score: null }));
    },
    searching ? NEVER_AGAIN : 10_000,
    [applied, cursor],
  );
  const remove = async (id: string, text: string) => {
    if (!confirm(`Delete memory ${id}?\n\n${text.slice(0, 200)}`)) return;
    try {
      await deleteMemory(id);
      setError(null);
      rows.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const mayDelete = can(props.session, 'submit');
  return (
    <section aria-labelledby="memories-title">
      <h1 id="memories-title">Memories</h1>
      <p class="meta">Facts and lessons the tenant's runs share: the planner is given the closest lessons to a goal.</p>
      <search>
        <form
          class="search-form memory-search"
          onSubmit={(e) => {
            e.preventDefault();
            setCursors([]);
            setApplied({ ...form });
          }}
        >
          <label for="memory-query">Search by meaning</label>
          <input
            id="memory-query"
            type="search"
            placeholder="what are you looking for?"
            value={form.query}
            onInput={(e) => setForm({ ...form, query: e.currentTarget.value })}
          />
          <label for="memory-kind">Kind</label>
          <select
            id="memory-kind"
            value={form.kind}
            onChange={(e) => setForm({ ...form, kind: (e.currentTarget.value as MemoryKind) || '' })}
          >
            <option value="">any</option>
            {MemoryKind.options.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
          <label for="memory-tags">Tags</label>
          <input
            id="memory-tags"
            placeholder="all of: a, b"
            value={form.tags}
            onInput={(e) => setForm({ ...form, tags: e.currentTarget.value })}
          />
          <button type="submit">{form.query.trim() ? 'Search' : 'Filter'}</button>
        </form>
      </search>
      {(error || rows.error) && (
        <p role="alert" class="error">
          {error ?? rows.error}
        </p>
      )}
      <table class="memories">
        <caption class="sr-only">{searching ? 'Memories closest to the query' : 'Memories, newest first'}</caption>
        <thead>
          <tr>
            <th scope="col">Memory</th>
            <th scope="col">Kind</th>
            <th scope="col">Text</th>
            <th scope="col">Tags</th>
            <th scope="col">Source</th>
            <th scope="col">{searching ? 'Score' : 'Created'}</th>
            {mayDelete && (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.value?.map(({ entry: m, score }) => (
            <tr key={m.id} data-memory-id={m.id}>
              <td>
                <code>{m.id}</code>
              </td>
              <td>{m.kind}</td>
              <td class="memory-text">
                {m.text} <UntrustedBadge untrusted={m.untrusted} />
              </td>
              <td>{m.tags.join(', ')}</td>
              <td>
                <MemorySource source={m.source} />
              </td>
              <td>{score === null ? when(m.createdAt) : score.toFixed(2)}</td>
              {mayDelete && (
                <td>
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Delete memory ${m.id}`}
                    onClick={() => remove(m.id, m.text)}
                  >
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.value && rows.value.length === 0 && <p>{searching ? 'Nothing close to that.' : 'No memories yet.'}</p>}
      {!searching && (
        <div class="pager">
          <button type="button" disabled={!cursors.length} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer
          </button>
          <button type="button" disabled={!next} onClick={() => next && setCursors((c) => [...c, next])}>
            Older
          </button>
        </div>
      )}
    </section>
  );
}
