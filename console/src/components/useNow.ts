import { useEffect, useState } from 'preact/hooks';

/** The time, updated every `everyMs` (countdowns, elapsed time). */
export function useNow(everyMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
