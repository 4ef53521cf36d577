/** A run or approval status as a labelled badge (text, not colour alone, carries the meaning). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`}>{props.status.replace('_', ' ')}</span>;
}

/** Milliseconds as a short duration: 2 h 5 min, 4 min 10 s, 12 s. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

/** A time as the reader's local date and time. */
export const when = (ms: number) => new Date(ms).toLocaleString();
