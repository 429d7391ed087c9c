import { useEffect, useRef, useState } from 'preact/hooks';

/** How often a view asks the API again while it is visible. */
export const POLL_MS = 5000;

/**
 * Loads data, then again every `every` ms while the tab is visible: one request at a time, none while the
 * tab is hidden (visibilitychange resumes at once), none after the view is left. `every = 0` loads once.
 * Returns { data, error, loading, refresh }.
 */
export function usePoll(load, deps, every = POLL_MS) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [nonce, setNonce] = useState(0);
  const latest = useRef(load);
  latest.current = load;

  useEffect(() => {
    let stopped = false;
    let timer = null;
    let inflight = null;
    const run = async () => {
      timer = null;
      if (stopped || document.hidden || inflight) return;
      const controller = new AbortController();
      inflight = controller;
      try {
        const data = await latest.current(controller.signal);
        if (!stopped) setState({ data, error: null, loading: false });
      } catch (error) {
        if (!stopped && error?.name !== 'AbortError') setState((s) => ({ ...s, error, loading: false }));
      } finally {
        inflight = null;
      }
      if (!stopped && every > 0 && !document.hidden) timer = setTimeout(run, every);
    };
    const onVisibility = () => {
      if (document.hidden) {
        clearTimeout(timer);
        timer = null;
      } else if (!timer && !inflight && every > 0) {
        void run();
      }
    };
    setState((s) => ({ ...s, loading: true }));
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inflight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [...deps, nonce, every]);

  return { ...state, refresh: () => setNonce((n) => n + 1) };
}
