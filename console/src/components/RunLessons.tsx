import type { StoredRunEvent } from '@triad/contracts';
import { Link } from './Link.js';
import { UntrustedBadge } from './MemoryText.js';

/**
 * What the run took from the tenant's memory (its `memory.recalled` events: the lessons its planner was given) and
 * what it left there (its `memory.learned` events: the lessons the judge drew from it).
 */
export function RunLessons(props: { events: StoredRunEvent[] }) {
  const used = props.events.flatMap((e) => (e.type === 'memory.recalled' ? e.lessons : []));
  const learned = props.events.flatMap((e) => (e.type === 'memory.learned' ? e.lessons : []));
  if (!used.length && !learned.length) return null;
  return (
    <>
      {used.length > 0 && (
        <section aria-labelledby="lessons-used" class="lessons">
          <h2 id="lessons-used">Lessons used</h2>
          <ul>
            {used.map((l) => (
              <li key={l.id} data-memory-id={l.id}>
                <span class="lesson-text">{l.text}</span> <UntrustedBadge untrusted={l.untrusted} />
                <span class="meta">
                  {' '}
                  · score {l.score.toFixed(2)}
                  {l.sourceRunId && (
                    <>
                      {' '}
                      · from run <Link to={`/runs/${encodeURIComponent(l.sourceRunId)}`}>{l.sourceRunId}</Link>
                    </>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {learned.length > 0 && (
        <section aria-labelledby="lessons-learned" class="lessons">
          <h2 id="lessons-learned">Lessons learned</h2>
          <ul>
            {learned.map((l) => (
              <li key={l.id} data-memory-id={l.id}>
                <span class="lesson-text">{l.text}</span> <UntrustedBadge untrusted={l.untrusted} />
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
