/** Small pieces every page uses: dates, errors, loading state, an async call's state. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from './api.js';

export function formatDate(value: Date | string | number | undefined): string {
  if (value === undefined || value === '') return '—';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <p role="alert" class="error">
      {describeError(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true">Loading {what}…</p>;
}

export type Loaded<T> = { data?: T; error?: unknown; loading: boolean; reload(): void };

/** Runs `load` when `key` changes (and on reload()); keeps the last answer or error. */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...key, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { ...state, reload };
}

/** A button whose click runs an async action, showing its error (or `done`) beside it. */
export function ActionButton(props: { label: string; run: () => Promise<unknown>; class?: string; confirm?: string; done?: string; id?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  const click = async () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(undefined);
    setDone(false);
    try {
      await props.run();
      setDone(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" id={props.id} class={props.class} aria-busy={busy} disabled={busy} onClick={click}>
        {props.label}
      </button>
      {done && props.done ? <small role="status"> {props.done}</small> : null}
      <ErrorNote error={error} />
    </span>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section id={id} aria-labelledby={id ? `${id}-title` : undefined}>
      <h3 id={id ? `${id}-title` : undefined}>{title}</h3>
      {children}
    </section>
  );
}

/** Pretty JSON of a policy document (a string as the APIs return it). */
export function PolicyView({ policy }: { policy: string | undefined }) {
  if (!policy) return <p>None.</p>;
  let text = policy;
  try {
    text = JSON.stringify(JSON.parse(policy), null, 2);
  } catch {
    // shown as it came
  }
  return <pre class="policy">{text}</pre>;
}
