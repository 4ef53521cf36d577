import { Budget, type GoalRequest, ToolRisk } from '@triad/contracts';
import { useState } from 'preact/hooks';
import { messageOf } from '../api/http.js';
import { listTools, submitRun } from '../api/runs.js';
import { usePoll } from '../components/usePoll.js';
import { navigate } from '../router.js';

const DEFAULTS = Budget.parse({});
const LIMITS = [
  ['maxIterations', 'Iterations'],
  ['maxToolCalls', 'Tool calls'],
  ['maxTokens', 'Tokens'],
  ['maxCostUsd', 'Cost (USD)'],
  ['timeoutMs', 'Time (ms)'],
] as const;

/** `key=value` lines as a metadata map; throws naming the first bad line. */
function metadataOf(text: string): Record<string, string> | undefined {
  const lines = text.split('\n').filter((l) => l.trim());
  if (!lines.length) return undefined;
  return Object.fromEntries(
    lines.map((l, i) => {
      const eq = l.indexOf('=');
      if (eq < 1) throw new Error(`metadata line ${i + 1} is not key=value`);
      return [l.slice(0, eq).trim(), l.slice(eq + 1).trim()];
    }),
  );
}

/** A new run: the goal, the tools it may use, its budget, the risks that need a human, and metadata. */
export function SubmitPage() {
  const tools = usePoll(listTools, 60_000, []);
  const [goal, setGoal] = useState('');
  const [picked, setPicked] = useState<Set<string> | null>(null); // null: every tool
  const [budget, setBudget] = useState<Record<string, string>>({});
  const [risks, setRisks] = useState<Set<string>>(new Set());
  const [metadata, setMetadata] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (set: Set<string>, v: string) => {
    const next = new Set(set);
    if (next.has(v)) next.delete(v);
    else next.add(v);
    return next;
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const limits = Object.fromEntries(
        Object.entries(budget)
          .filter(([, v]) => v.trim() !== '')
          .map(([k, v]) => [k, Number(v)]),
      );
      const request: GoalRequest = {
        goal: goal.trim(),
        ...(picked ? { tools: [...picked] } : {}),
        budget: limits as GoalRequest['budget'],
        ...(risks.size ? { requireApproval: [...risks] as ToolRisk[] } : {}),
        metadata: metadataOf(metadata),
      };
      const answer = await submitRun(request);
      navigate(`/runs/${encodeURIComponent(answer.runId)}`);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="submit-title">
      <h1 id="submit-title">New run</h1>
      <form class="submit" onSubmit={submit}>
        <label for="goal">Goal</label>
        <textarea id="goal" rows={4} required value={goal} onInput={(e) => setGoal(e.currentTarget.value)} />
        <fieldset>
          <legend>Tools</legend>
          <label class="check">
            <input type="checkbox" checked={picked === null} onChange={() => setPicked(picked ? null : new Set())} />
            every tool the executors offer
          </label>
          {picked !== null &&
            tools.value?.tools.map((t) => (
              <label class="check" key={t.name}>
                <input
                  type="checkbox"
                  checked={picked.has(t.name)}
                  onChange={() => setPicked(toggle(picked, t.name))}
                />
                <code>{t.name}</code> ({t.risk}) — {t.description}
              </label>
            ))}
        </fieldset>
        <fieldset>
          <legend>Budget (empty: the default)</legend>
          <div class="grid">
            {LIMITS.map(([k, label]) => (
              <label key={k}>
                {label}
                <input
                  type="number"
                  min={0}
                  step="any"
                  placeholder={String(DEFAULTS[k] ?? 'none')}
                  value={budget[k] ?? ''}
                  onInput={(e) => setBudget({ ...budget, [k]: e.currentTarget.value })}
                />
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Ask a human before tools of risk</legend>
          {ToolRisk.options.map((r) => (
            <label class="check" key={r}>
              <input type="checkbox" checked={risks.has(r)} onChange={() => setRisks(toggle(risks, r))} />
              {r}
            </label>
          ))}
        </fieldset>
        <label for="metadata">Metadata (one key=value a line)</label>
        <textarea id="metadata" rows={3} value={metadata} onInput={(e) => setMetadata(e.currentTarget.value)} />
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !goal.trim()}>
          Start the run
        </button>
      </form>
    </section>
  );
}
