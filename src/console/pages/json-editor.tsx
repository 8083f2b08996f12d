import { useState } from 'preact/hooks';

/**
 * The value editor: key/value rows for a JSON object secret (what database credentials look like), or the plain
 * text. `initial` starts it (a revealed value); it reports the text to store through onChange.
 */
/** `json`: the value was a number, boolean, object... in the stored JSON, shown as its JSON text and stored back as such. */
export type Pair = { key: string; value: string; json?: boolean };

export function parsePairs(text: string): Pair[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    return Object.entries(parsed as Record<string, unknown>).map(([key, value]) => (typeof value === 'string' ? { key, value } : { key, value: JSON.stringify(value), json: true }));
  } catch {
    return undefined;
  }
}

/**
 * Values are strings (a password of digits stays a string); a value that was not a string in the stored JSON (a
 * port number, a flag) goes back with its type while its text still parses as JSON.
 */
export function pairsToJson(pairs: Pair[]): string {
  const object: Record<string, unknown> = {};
  for (const { key, value, json } of pairs) {
    if (!key) continue;
    object[key] = json ? parseOr(value) : value;
  }
  return JSON.stringify(object);
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function ValueEditor({ initial, onChange }: { initial?: string; onChange(text: string): void }) {
  const initialPairs = initial === undefined ? [{ key: '', value: '' }] : parsePairs(initial);
  const [mode, setMode] = useState<'pairs' | 'text'>(initial !== undefined && !initialPairs ? 'text' : 'pairs');
  const [pairs, setPairs] = useState<Pair[]>(initialPairs ?? [{ key: '', value: '' }]);
  const [text, setText] = useState(initial ?? '');

  const updatePairs = (next: Pair[]) => {
    setPairs(next);
    onChange(pairsToJson(next));
  };
  const switchTo = (next: 'pairs' | 'text') => {
    if (next === mode) return;
    if (next === 'text') {
      const json = pairsToJson(pairs);
      setText(json);
      onChange(json);
    } else {
      const parsed = parsePairs(text) ?? [{ key: '', value: '' }];
      setPairs(parsed);
      onChange(pairsToJson(parsed));
    }
    setMode(next);
  };

  return (
    <fieldset class="value-editor">
      <legend>Secret value</legend>
      <div role="group" aria-label="Value format">
        <button type="button" class={mode === 'pairs' ? '' : 'secondary outline'} aria-pressed={mode === 'pairs'} onClick={() => switchTo('pairs')}>
          Key/value
        </button>
        <button type="button" class={mode === 'text' ? '' : 'secondary outline'} aria-pressed={mode === 'text'} id="plaintext-mode" onClick={() => switchTo('text')}>
          Plaintext
        </button>
      </div>
      {mode === 'text' ? (
        <textarea
          name="secretText"
          id="secret-text"
          rows={5}
          spellcheck={false}
          aria-label="Secret value as text"
          value={text}
          onInput={(event) => {
            const value = (event.currentTarget as HTMLTextAreaElement).value;
            setText(value);
            onChange(value);
          }}
        />
      ) : (
        <>
          {pairs.map((pair, index) => (
            <div class="pair" key={index}>
              <input aria-label={`Key ${index + 1}`} placeholder="key" value={pair.key} class="pair-key" onInput={(event) => updatePairs(pairs.map((other, at) => (at === index ? { ...other, key: (event.currentTarget as HTMLInputElement).value } : other)))} />
              <input aria-label={`Value ${index + 1}`} placeholder="value" value={pair.value} class="pair-value" type="text" spellcheck={false} onInput={(event) => updatePairs(pairs.map((other, at) => (at === index ? { ...other, value: (event.currentTarget as HTMLInputElement).value } : other)))} />
              <button type="button" class="secondary outline" aria-label={`Remove key ${index + 1}`} onClick={() => updatePairs(pairs.filter((_, at) => at !== index))}>
                ×
              </button>
            </div>
          ))}
          <button type="button" class="secondary outline" id="add-pair" onClick={() => updatePairs([...pairs, { key: '', value: '' }])}>
            Add key
          </button>
        </>
      )}
    </fieldset>
  );
}
