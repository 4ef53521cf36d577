import type { ApprovalRecord, ToolSpec } from '@triad/contracts';
import { useMemo, useState } from 'preact/hooks';
import { messageOf } from '../api/http.js';
import { approve, reject } from '../api/runs.js';
import { ArgumentsEditor, checkArguments, schemaValidator } from './ArgumentsEditor.js';
import { Link } from './Link.js';
import { duration, when } from './StatusBadge.js';
import { prettyJson } from './Timeline.js';

/**
 * One pending gate: the tool, its risk, the arguments, who asked and the time left; with the approve role, approve
 * (as asked or with edited arguments, validated against the tool's schema first) or reject with a reason.
 */
export function ApprovalCard(props: {
  approval: ApprovalRecord;
  tool: ToolSpec | undefined;
  canDecide: boolean;
  now: number;
  onDecided: (a: ApprovalRecord) => void;
}) {
  const a = props.approval;
  const [mode, setMode] = useState<'view' | 'edit' | 'reject'>('view');
  const [text, setText] = useState(() => prettyJson(a.arguments));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const validator = useMemo(() => schemaValidator(props.tool?.parameters), [props.tool]);
  const base = `approval-${a.id.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const act = async (fn: () => Promise<{ approval: ApprovalRecord }>) => {
    setBusy(true);
    setError(null);
    try {
      props.onDecided((await fn()).approval);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const left = a.expiresAt - props.now;
  const checked = checkArguments(text, validator);
  return (
    <article class="approval" aria-labelledby={`${base}-title`} data-approval-id={a.id}>
      <h2 id={`${base}-title`}>
        <code>{a.tool}</code> <span class={`risk risk-${a.risk}`}>{a.risk}</span>
      </h2>
      <p class="meta">
        Run <Link to={`/runs/${encodeURIComponent(a.runId)}`}>{a.runId}</Link> · iteration {a.iteration} · asked by{' '}
        {a.requestedBy} at {when(a.requestedAt)} ·{' '}
        <span class={left < 60_000 ? 'error' : ''}>{left > 0 ? `${duration(left)} left` : 'expiring'}</span>
      </p>
      <figure>
        <figcaption>Arguments asked for</figcaption>
        <pre class="json">{prettyJson(a.arguments)}</pre>
      </figure>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!props.canDecide ? (
        <p class="hint">Your key may look but not decide (it lacks the approve role).</p>
      ) : mode === 'edit' ? (
        <div class="decide">
          <ArgumentsEditor id={`${base}-args`} text={text} onInput={setText} validator={validator} />
          <button
            type="button"
            disabled={busy || !checked.ok}
            onClick={() => checked.ok && act(() => approve(a.runId, a.id, checked.value))}
          >
            Approve with these arguments
          </button>
          <button type="button" class="quiet" onClick={() => setMode('view')}>
            Back
          </button>
        </div>
      ) : mode === 'reject' ? (
        <form
          class="decide"
          onSubmit={(e) => {
            e.preventDefault();
            act(() => reject(a.runId, a.id, reason.trim()));
          }}
        >
          <label for={`${base}-reason`}>Reason for rejecting</label>
          <input
            id={`${base}-reason`}
            required
            maxLength={2000}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <button type="submit" class="danger" disabled={busy || !reason.trim()}>
            Reject
          </button>
          <button type="button" class="quiet" onClick={() => setMode('view')}>
            Back
          </button>
        </form>
      ) : (
        <div class="decide">
          <button type="button" disabled={busy} onClick={() => act(() => approve(a.runId, a.id))}>
            Approve
          </button>
          <button type="button" onClick={() => setMode('edit')}>
            Edit arguments…
          </button>
          <button type="button" class="danger" onClick={() => setMode('reject')}>
            Reject…
          </button>
        </div>
      )}
    </article>
  );
}
