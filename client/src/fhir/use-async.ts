/** Loading state for a screen: data, error (a person-readable message), loading, and reload. */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface AsyncState<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  const run = useCallback(load, deps);
  useEffect(() => {
    const call = ++current.current;
    setState((s) => ({ data: s.data, loading: true }));
    run().then(
      (data) => call === current.current && setState({ data, loading: false }),
      (error: unknown) =>
        call === current.current &&
        setState({ error: error instanceof Error ? error.message : String(error), loading: false }),
    );
  }, [run, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
}
