import type { ApprovalRecord } from '@triad/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { listTools, pendingApprovals } from '../api/runs.js';
import { can, type Session } from '../api/session.js';
import { ApprovalCard } from './ApprovalCard.js';
import { useNow } from './useNow.js';
import { usePoll } from './usePoll.js';

/** How often the pending gates are read again: a decision taken elsewhere leaves the list within this time. */
export const APPROVALS_POLL_MS = 2_000;

/**
 * The pending gates (of one run, or of every run), read again every 2 s: a gate decided by someone else (or expired)
 * leaves the list, and the page says so.
 */
export function PendingApprovals(props: { session: Session; runId?: string; empty: string }) {
  const pending = usePoll(() => pendingApprovals(props.runId), APPROVALS_POLL_MS, [props.runId]);
  const tools = usePoll(listTools, 60_000, []);
  const now = useNow();
  const mine = useRef(new Set<string>());
  const shown = useRef(new Map<string, ApprovalRecord>());
  const [notices, setNotices] = useState<string[]>([]);
  useEffect(() => {
    if (!pending.value) return;
    const ids = new Set(pending.value.approvals.map((a) => a.id));
    const gone = [...shown.current.values()].filter((a) => !ids.has(a.id) && !mine.current.has(a.id));
    if (gone.length) {
      setNotices((n) =>
        [
          ...gone.map((a) => `The ${a.tool} call of run ${a.runId} was decided elsewhere (or its time ran out).`),
          ...n,
        ].slice(0, 5),
      );
    }
    shown.current = new Map(pending.value.approvals.map((a) => [a.id, a]));
  }, [pending.value]);
  const decided = (a: ApprovalRecord) => {
    mine.current.add(a.id);
    setNotices((n) => [`You ${a.status} the ${a.tool} call of run ${a.runId}.`, ...n].slice(0, 5));
    pending.reload();
  };
  const list = pending.value?.approvals.filter((a) => !mine.current.has(a.id)) ?? [];
  return (
    <div class="pending">
      <div aria-live="polite" class="notices">
        {notices.map((n) => (
          <p key={n} class="notice">
            {n}
          </p>
        ))}
      </div>
      {pending.error && (
        <p role="alert" class="error">
          {pending.error}
        </p>
      )}
      {pending.value && list.length === 0 && <p>{props.empty}</p>}
      {list.map((a) => (
        <ApprovalCard
          key={a.id}
          approval={a}
          tool={tools.value?.tools.find((t) => t.name === a.tool)}
          canDecide={can(props.session, 'approve')}
          now={now}
          onDecided={decided}
        />
      ))}
    </div>
  );
}
