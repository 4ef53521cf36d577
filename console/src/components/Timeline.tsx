import type { StoredRunEvent } from '@triad/contracts';
import { StatusBadge } from './StatusBadge.js';

/** Pretty JSON of a JSON text (as given when it does not parse). */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const time = (at: number) => new Date(at).toLocaleTimeString();

/** A run's events in order: what the planner thought, the tools it called and saw, the judge's verdicts, and more. */
export function Timeline(props: { events: StoredRunEvent[] }) {
  return (
    <ol class="timeline" aria-label="Run timeline">
      {props.events.map((e) => (
        <li key={e.id} class={`ev ev-${e.type.replace('.', '-')}`} data-event-type={e.type}>
          <span class="ev-meta">
            <span class="ev-type">{e.type}</span> <span class="ev-it">it {e.iteration}</span>{' '}
            <time dateTime={new Date(e.at).toISOString()}>{time(e.at)}</time>
          </span>
          <div class="ev-body">
            <EventBody e={e} />
          </div>
        </li>
      ))}
    </ol>
  );
}

function EventBody({ e }: { e: StoredRunEvent }) {
  switch (e.type) {
    case 'goal.received':
      return <p>{e.request.goal}</p>;
    case 'goal.rejected':
      return <p class="error">{e.error.message}</p>;
    case 'thought':
      return (
        <p>
          <em>{e.stage}</em> · {e.model} · {e.inputTokens}+{e.outputTokens} tokens
          {e.text && <span class="text"> — {e.text}</span>}
        </p>
      );
    case 'tool.called':
      return (
        <>
          <p>
            <code>{e.tool}</code> [{e.stepId}]
          </p>
          <pre class="json">{prettyJson(e.arguments)}</pre>
        </>
      );
    case 'observation':
      return (
        <>
          <p>
            <code>{e.tool}</code> [{e.stepId}] on {e.executor} · {e.durationMs} ms ·{' '}
            {e.observation.ok ? 'ok' : `${e.observation.error.code}: ${e.observation.error.message}`}
          </p>
          {e.observation.ok && <pre class="json">{JSON.stringify(e.observation.data, null, 2)}</pre>}
        </>
      );
    case 'answer.proposed':
      return <p class="text">{e.answer}</p>;
    case 'reflection':
      return (
        <>
          <p class="text">
            {e.model && <em>judge's critique ({e.model}): </em>}
            {e.text}
          </p>
          {e.checks.length > 0 && (
            <ul>
              {e.checks.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
          )}
        </>
      );
    case 'verdict':
      return (
        <p>
          <strong class={`verdict verdict-${e.decision}`}>{e.decision}</strong> — {e.reason}
        </p>
      );
    case 'approval.requested':
      return (
        <>
          <p>
            <code>{e.tool}</code> ({e.risk}) waits for a human until {time(e.expiresAt)}
          </p>
          <pre class="json">{prettyJson(e.arguments)}</pre>
        </>
      );
    case 'approval.decided':
      return (
        <p>
          <StatusBadge status={e.status} /> by {e.by}
          {e.edited ? ' with edited arguments' : ''}
          {e.reason ? ` — ${e.reason}` : ''}
        </p>
      );
    case 'webhook.delivered':
      return (
        <p>
          {e.url} answered {e.status} after {e.attempts} attempt(s)
        </p>
      );
    case 'webhook.failed':
      return (
        <p class="error">
          {e.url}: {e.error} after {e.attempts} attempt(s)
        </p>
      );
    case 'run.queued':
      return <p>waits for a slot (at most {e.maxRunsInFlight} runs in flight)</p>;
    case 'run.admitted':
      return <p>admitted after {e.waitedMs} ms</p>;
    case 'memory.recalled':
      return (
        <>
          <p>{e.lessons.length} lesson(s) of past runs given to the planner</p>
          <ul>
            {e.lessons.map((l) => (
              <li key={l.id}>
                <code>{l.id}</code> ({l.score.toFixed(2)}){' '}
                {l.untrusted && <span class="badge badge-untrusted">untrusted</span>} {l.text}
              </li>
            ))}
          </ul>
        </>
      );
    case 'memory.learned':
      return (
        <>
          <p>
            learned {e.lessons.length} lesson(s)
            {e.duplicates ? `, ${e.duplicates} already known` : ''} · {e.tokens} tokens
          </p>
          <ul>
            {e.lessons.map((l) => (
              <li key={l.id}>
                <code>{l.id}</code> {l.untrusted && <span class="badge badge-untrusted">untrusted</span>} {l.text}
              </li>
            ))}
          </ul>
        </>
      );
    case 'status.changed':
      return (
        <p>
          {e.from ?? 'new'} → <StatusBadge status={e.to} />
          {e.reason ? ` — ${e.reason}` : ''}
        </p>
      );
  }
}
