import type { RecalledLesson, StoredRunEvent } from '@triad/contracts';
import type { ComponentChildren } from 'preact';
import { Link } from './Link.js';
import { UntrustedBadge } from './MemoryText.js';

type Lesson = Pick<RecalledLesson, 'id' | 'text' | 'untrusted'>;

/**
 * What the run took from the tenant's memory (its `memory.recalled` events: the lessons its planner was given) and
 * what it left there (its `memory.learned` events: the lessons the judge drew from it).
 */
export function RunLessons(props: { events: StoredRunEvent[] }) {
  const used = props.events.flatMap((e) => (e.type === 'memory.recalled' ? e.lessons : []));
  const learned = props.events.flatMap((e) => (e.type === 'memory.learned' ? e.lessons : []));
  return (
    <>
      <LessonList id="lessons-used" title="Lessons used" lessons={used} meta={usedMeta} />
      <LessonList id="lessons-learned" title="Lessons learned" lessons={learned} />
    </>
  );
}

/** Where a used lesson stands: its score, and the run it came from. */
function usedMeta(l: RecalledLesson) {
  return (
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
  );
}

function LessonList<L extends Lesson>(props: {
  id: string;
  title: string;
  lessons: L[];
  meta?: (lesson: L) => ComponentChildren;
}) {
  if (!props.lessons.length) return null;
  return (
    <section aria-labelledby={props.id} class="lessons">
      <h2 id={props.id}>{props.title}</h2>
      <ul>
        {props.lessons.map((l) => (
          <li key={l.id} data-memory-id={l.id}>
            <span class="lesson-text">{l.text}</span> <UntrustedBadge untrusted={l.untrusted} />
            {props.meta?.(l)}
          </li>
        ))}
      </ul>
    </section>
  );
}
