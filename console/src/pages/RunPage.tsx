import { isTerminal, type RunRecord } from '@triad/contracts';
import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api/http.js';
import { cancelRun, getRun } from '../api/runs.js';
import { can, type Session } from '../api/session.js';
import { PendingApprovals } from '../components/PendingApprovals.js';
import { RunLessons } from '../components/RunLessons.js';
import { StatusBadge, when } from '../components/StatusBadge.js';
import { Timeline } from '../components/Timeline.js';
import { TraceTree } from '../components/TraceTree.js';
import { UsageBars } from '../components/UsageBars.js';
import { useNow } from '../components/useNow.js';
import { useRunEvents } from '../live/useRunEvents.js';

const CONNECTION_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'connection lost, resuming…',
  ended: 'complete',
};

/** One run, live: its timeline over the event stream, usage against the budget, the answer, gates, trace, cancel. */
export function RunPage(props: { session: Session; runId: string }) {
  const { runId, session } = props;
  const [run, setRun] = useState<RunRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  // The stream is over when the run has ended, or is not there at all (a wrong link).
  const { events, connection } = useRunEvents(runId, () =>
    getRun(runId).then(
      (r) => isTerminal(r.status),
      (e) => (e as { status?: number }).status === 404,
    ),
  );
  // The record is read again as events arrive (once a burst has passed): its status, usage and answer follow them.
  useEffect(() => {
    let live = true;
    const timer = setTimeout(
      () =>
        getRun(runId)
          .then((r) => {
            if (!live) return;
            setRun(r);
            setError(null);
          })
          .catch((e) => live && setError(messageOf(e))),
      events.length ? 250 : 0,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId, events.length]);
  const cancel = async () => {
    if (!confirm(`Cancel run ${runId}?`)) return;
    try {
      await cancelRun(runId);
      setRun(await getRun(runId));
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <section aria-labelledby="run-title" class="run">
      <h1 id="run-title">
        Run <code>{runId}</code> {run && <StatusBadge status={run.status} />}
      </h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {run && (
        <>
          <p class="goal-text">{run.request?.goal}</p>
          <p class="meta">
            Started {when(run.createdAt)} · phase {run.phase} · events{' '}
            <span role="status" data-connection={connection}>
              {CONNECTION_TEXT[connection]}
            </span>
            {can(session, 'submit') && run.status === 'running' && (
              <button type="button" class="danger" onClick={cancel}>
                Cancel run
              </button>
            )}
          </p>
          <div class="run-grid">
            <div>
              <h2>Usage</h2>
              <UsageBars run={run} now={now} />
              {(run.answer || run.error) && <h2>{run.answer ? 'Answer' : 'Error'}</h2>}
              {run.answer && <p class="answer">{run.answer}</p>}
              {run.output != null && (
                <>
                  <h2>Output</h2>
                  <pre class="json">{JSON.stringify(run.output, null, 2)}</pre>
                </>
              )}
              {run.error && (
                <p class="error">
                  {run.error.code}: {run.error.message}
                </p>
              )}
              <RunLessons events={events} />
              {run.status === 'running' && (
                <>
                  <h2>Waiting for a decision</h2>
                  <PendingApprovals session={session} runId={runId} empty="No gate of this run is pending." />
                </>
              )}
            </div>
            <div>
              <h2>Timeline</h2>
              <Timeline events={events} />
            </div>
          </div>
          <details>
            <summary>Trace</summary>
            <TraceTree run={run} events={events} jaegerUrl={session.jaegerUrl} />
          </details>
        </>
      )}
    </section>
  );
}
