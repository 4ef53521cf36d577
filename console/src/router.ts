import { useEffect, useState } from 'preact/hooks';

/** Where the gateway serves the console; every page is a path under it (deep links work: the gateway serves them). */
export const BASE = '/console';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const fn of listeners) fn();
});

/** The console path of the page (`/runs/r1`), and its query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((t) => t + 1);
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }, []);
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  return { path, query: new URLSearchParams(location.search) };
}

/** Goes to a console path without reloading the page. */
export function navigate(to: string, replace = false): void {
  history[replace ? 'replaceState' : 'pushState'](null, '', BASE + to);
  for (const fn of listeners) fn();
}

/** The href of a console path, for links that also work opened in a new tab. */
export const href = (to: string) => BASE + to;
