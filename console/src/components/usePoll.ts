import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/http.js';

/**
 * Loads with `load` now and every `everyMs` while the page shows it (and again whenever `deps` change); keeps the
 * last good value when a later load fails, and says why.
 */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[]) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const current = useRef(load);
  current.current = load;
  useEffect(() => {
    let live = true;
    const run = () =>
      current
        .current()
        .then((v) => {
          if (!live) return;
          setValue(v);
          setError(null);
        })
        .catch((e) => live && setError(messageOf(e)));
    run();
    const timer = setInterval(() => document.visibilityState === 'visible' && run(), everyMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}
