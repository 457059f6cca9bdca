/** Loading and error states, announced to assistive technology (role=status / role=alert). */
import type { ReactNode } from 'react';
import type { AsyncState } from '../fhir/use-async.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" className="loading">
      {label}
    </p>
  );
}

export function ErrorMessage({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div role="alert" className="error">
      <p>{message}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Shows the loading or error state of `state`, or its data through `children` (keeping data while reloading). */
export function Async<T>({
  state,
  children,
  label,
}: {
  state: AsyncState<T>;
  children: (data: T) => ReactNode;
  label?: string;
}) {
  if (state.error) return <ErrorMessage message={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Loading label={label} />;
  return <>{children(state.data)}</>;
}
