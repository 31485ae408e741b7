// Create / edit a strategy. Validates as the server does (validation/strategy.ts) on
// every change, shows each message next to its input, and puts the server's own
// messages (422) in the same places. `onChange` reports valid drafts (for the live
// preview).
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { StrategyInput } from '../api/types';
import { errorsUnder, validateStrategy, type FieldErrors } from '../validation/strategy';
import { FieldError, ErrorNote } from './Status';

export interface StrategyDraft {
  strategyNamespace: string;
  selectors: { key: string; value: string }[];
  namespaces: string; // comma or space separated
  commandRegex: string;
  priority: string;
  executionTimeMs: string;
}

export const emptyDraft: StrategyDraft = {
  strategyNamespace: '',
  selectors: [{ key: '', value: '' }],
  namespaces: '',
  commandRegex: '',
  priority: '0',
  executionTimeMs: '0',
};

export function draftFromStrategy(s: StrategyInput): StrategyDraft {
  return {
    strategyNamespace: s.strategyNamespace ?? '',
    selectors: s.labelSelectors.length ? s.labelSelectors.map((l) => ({ ...l })) : [],
    namespaces: (s.k8sNamespace ?? []).join(', '),
    commandRegex: s.commandRegex ?? '',
    priority: String(s.priority ?? 0),
    executionTimeMs: String((s.executionTime ?? 0) / 1e6),
  };
}

function toNumber(text: string): number {
  const t = text.trim();
  return t === '' ? NaN : Number(t);
}

export function inputFromDraft(d: StrategyDraft): StrategyInput {
  // Empty rows are ignored, so an untouched last row does not block the form.
  const selectors = d.selectors.filter((s) => s.key.trim() !== '' || s.value.trim() !== '');
  return {
    strategyNamespace: d.strategyNamespace.trim(),
    labelSelectors: selectors.map((s) => ({ key: s.key.trim(), value: s.value.trim() })),
    k8sNamespace: d.namespaces.split(/[\s,]+/).filter(Boolean),
    commandRegex: d.commandRegex,
    priority: toNumber(d.priority),
    executionTime: Math.round(toNumber(d.executionTimeMs) * 1e6),
  };
}

interface Props {
  initial: StrategyDraft;
  submitLabel: string;
  serverErrors?: FieldErrors;
  serverMessage?: string | null;
  busy?: boolean;
  onSubmit: (input: StrategyInput) => void;
  onChange?: (input: StrategyInput | null) => void;
  onCancel?: () => void;
}

export function StrategyForm({ initial, submitLabel, serverErrors = {}, serverMessage, busy, onSubmit, onChange, onCancel }: Props) {
  const [draft, setDraft] = useState<StrategyDraft>(initial);
  const [touched, setTouched] = useState(false);
  const input = useMemo(() => inputFromDraft(draft), [draft]);
  const localErrors = useMemo(() => validateStrategy(input), [input]);
  const valid = Object.keys(localErrors).length === 0;
  const errors: FieldErrors = { ...serverErrors, ...(touched ? localErrors : {}) };

  useEffect(() => {
    onChange?.(valid ? input : null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [input, valid]);

  const set = (patch: Partial<StrategyDraft>) => {
    setTouched(true);
    setDraft((d) => ({ ...d, ...patch }));
  };
  const setSelector = (i: number, patch: Partial<{ key: string; value: string }>) =>
    set({ selectors: draft.selectors.map((s, j) => (j === i ? { ...s, ...patch } : s)) });

  function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (valid) onSubmit(input);
  }

  const selectorRowsWithIndex = (() => {
    // Map visible rows to the index they get in the submitted list (empty rows are dropped).
    let n = 0;
    return draft.selectors.map((s) => (s.key.trim() !== '' || s.value.trim() !== '' ? n++ : -1));
  })();
  const describedBy = (id: string, msg?: string) => (msg ? id : undefined);
  const nsError = errorsUnder(errors, 'k8sNamespace');
  const selectorsError = errors['labelSelectors'];

  return (
    <form className="card strategy-form" onSubmit={submit} noValidate aria-label="Strategy">
      <fieldset>
        <legend>Which pods</legend>
        <p className="hint">A pod matches when it carries every label below and is in one of the namespaces (any namespace when empty). At least one label or namespace is needed.</p>
        {draft.selectors.map((s, i) => {
          const at = selectorRowsWithIndex[i];
          const keyErr = at >= 0 ? errors[`labelSelectors[${at}].key`] : undefined;
          const valErr = at >= 0 ? errors[`labelSelectors[${at}].value`] : undefined;
          return (
            <div className="selector-row" key={i}>
              <div className="field">
                <label htmlFor={`sel-key-${i}`}>Label key {i + 1}</label>
                <input id={`sel-key-${i}`} value={s.key} placeholder="app.kubernetes.io/name"
                  onChange={(e) => setSelector(i, { key: e.target.value })}
                  aria-invalid={!!keyErr} aria-describedby={describedBy(`sel-key-${i}-err`, keyErr)} />
                <FieldError id={`sel-key-${i}-err`} message={keyErr} />
              </div>
              <div className="field">
                <label htmlFor={`sel-value-${i}`}>Value {i + 1}</label>
                <input id={`sel-value-${i}`} value={s.value} placeholder="(empty: the label exists)"
                  onChange={(e) => setSelector(i, { value: e.target.value })}
                  aria-invalid={!!valErr} aria-describedby={describedBy(`sel-value-${i}-err`, valErr)} />
                <FieldError id={`sel-value-${i}-err`} message={valErr} />
              </div>
              <button type="button" className="secondary small" aria-label={`Remove label ${i + 1}`}
                onClick={() => set({ selectors: draft.selectors.filter((_, j) => j !== i) })}>Remove</button>
            </div>
          );
        })}
        <button type="button" className="secondary small"
          onClick={() => set({ selectors: [...draft.selectors, { key: '', value: '' }] })}>Add label</button>
        <FieldError id="selectors-err" message={selectorsError} />
        <div className="field">
          <label htmlFor="namespaces">Namespaces</label>
          <input id="namespaces" value={draft.namespaces} placeholder="default, web"
            onChange={(e) => set({ namespaces: e.target.value })} aria-invalid={!!nsError}
            aria-describedby={nsError ? 'namespaces-err' : 'namespaces-hint'} />
          <span className="hint" id="namespaces-hint">Separated by commas or spaces.</span>
          <FieldError id="namespaces-err" message={nsError} />
        </div>
      </fieldset>
      <fieldset>
        <legend>Which processes, and how</legend>
        <div className="field">
          <label htmlFor="commandRegex">Command regex</label>
          <input id="commandRegex" value={draft.commandRegex} placeholder="^nginx (empty: every process)"
            onChange={(e) => set({ commandRegex: e.target.value })} aria-invalid={!!errors.commandRegex}
            aria-describedby={errors.commandRegex ? 'commandRegex-err' : 'commandRegex-hint'} spellCheck={false} />
          <span className="hint" id="commandRegex-hint">RE2 syntax (as Go's regexp).</span>
          <FieldError id="commandRegex-err" message={errors.commandRegex} />
        </div>
        <div className="two">
          <div className="field">
            <label htmlFor="priority">Priority</label>
            <input id="priority" type="number" min={-20} max={20} step={1} value={draft.priority}
              onChange={(e) => set({ priority: e.target.value })} aria-invalid={!!errors.priority}
              aria-describedby={errors.priority ? 'priority-err' : 'priority-hint'} />
            <span className="hint" id="priority-hint">−20 … 20; 0 is the fair share, higher gets more CPU.</span>
            <FieldError id="priority-err" message={errors.priority} />
          </div>
          <div className="field">
            <label htmlFor="executionTime">Time slice (ms)</label>
            <input id="executionTime" type="number" min={0} max={100} step="any" value={draft.executionTimeMs}
              onChange={(e) => set({ executionTimeMs: e.target.value })} aria-invalid={!!errors.executionTime}
              aria-describedby={errors.executionTime ? 'executionTime-err' : 'executionTime-hint'} />
            <span className="hint" id="executionTime-hint">0 = scheduler default, else 0.5 … 100 ms.</span>
            <FieldError id="executionTime-err" message={errors.executionTime} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="strategyNamespace">Strategy namespace (optional label)</label>
          <input id="strategyNamespace" value={draft.strategyNamespace}
            onChange={(e) => set({ strategyNamespace: e.target.value })} aria-invalid={!!errors.strategyNamespace}
            aria-describedby={errors.strategyNamespace ? 'strategyNamespace-err' : undefined} />
          <FieldError id="strategyNamespace-err" message={errors.strategyNamespace} />
        </div>
      </fieldset>
      <ErrorNote message={serverMessage} />
      <div className="row">
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : submitLabel}</button>
        {onCancel && <button type="button" className="secondary" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}
