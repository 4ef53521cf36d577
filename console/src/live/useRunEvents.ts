import { RunEvent, type StoredRunEvent } from '@triad/contracts';
import { useEffect, useState } from 'preact/hooks';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'ended';

/**
 * A run's events over Server-Sent Events, resuming where it left off: the browser reconnects by itself after a
 * dropped connection and sends Last-Event-ID; when it gives up (the gateway answered with an error) a new stream is
 * opened with `?lastEventId=` after a pause. Events are kept once by id. `ended(events)` says when to stop: the
 * gateway closes the stream of a finished run, and the browser would otherwise reopen it forever.
 */
export function useRunEvents(runId: string, ended: () => Promise<boolean>) {
  const [events, setEvents] = useState<StoredRunEvent[]>([]);
  const [connection, setConnection] = useState<Connection>('connecting');
  useEffect(() => {
    const seen = new Set<string>();
    let lastId = '';
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    setEvents([]);
    const received = (e: MessageEvent) => {
      if (!e.lastEventId || seen.has(e.lastEventId)) return;
      const parsed = RunEvent.safeParse(JSON.parse(e.data));
      if (!parsed.success) return;
      seen.add(e.lastEventId);
      lastId = e.lastEventId;
      setEvents((list) => [...list, { ...parsed.data, id: e.lastEventId }]);
    };
    const open = () => {
      const url = `/v1/runs/${encodeURIComponent(runId)}/events${lastId ? `?lastEventId=${lastId}` : ''}`;
      source = new EventSource(url, { withCredentials: true });
      source.onopen = () => setConnection('live');
      for (const type of RunEvent.options.map((o) => o.shape.type.value)) source.addEventListener(type, received);
      source.onerror = async () => {
        if (stopped) return;
        setConnection('reconnecting');
        if (await ended().catch(() => false)) {
          source?.close();
          if (!stopped) setConnection('ended');
          return;
        }
        if (source?.readyState === EventSource.CLOSED && !stopped) timer = setTimeout(open, 3_000);
      };
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [runId]);
  return { events, connection };
}
