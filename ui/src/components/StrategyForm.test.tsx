// The strategy form: messages appear next to the input that caused them, from the
// local rules and from the server; an invalid form is not submitted; a valid one
// submits the server's shape (nanoseconds).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { StrategyForm, emptyDraft, draftFromStrategy } from './StrategyForm';

afterEach(cleanup);

function errorOf(input: HTMLElement): string | null {
  const id = input.getAttribute('aria-describedby');
  const el = id ? document.getElementById(id) : null;
  return el && el.classList.contains('field-error') ? el.textContent : null;
}

describe('StrategyForm', () => {
  it('shows each rule\'s message next to its input and does not submit', () => {
    const onSubmit = vi.fn();
    render(<StrategyForm initial={emptyDraft} submitLabel="Create strategy" onSubmit={onSubmit} />);
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '25' } });
    fireEvent.change(screen.getByLabelText('Time slice (ms)'), { target: { value: '0.1' } });
    fireEvent.change(screen.getByLabelText('Namespaces'), { target: { value: 'Web' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create strategy' }));

    expect(onSubmit).not.toHaveBeenCalled();
    const priority = screen.getByLabelText('Priority');
    expect(priority.getAttribute('aria-invalid')).toBe('true');
    expect(errorOf(priority)).toBe('must be between -20 and 20, got 25');
    expect(errorOf(screen.getByLabelText('Time slice (ms)'))).toBe(
      'must be 0 (scheduler default) or between 500000 and 100000000 ns, got 100000');
    expect(errorOf(screen.getByLabelText('Namespaces'))).toMatch(/^"Web" is not a valid namespace/);
  });

  it('asks for a selector or a namespace when both are empty', () => {
    render(<StrategyForm initial={emptyDraft} submitLabel="Create strategy" onSubmit={vi.fn()} />);
    fireEvent.click(screen.getByRole('button', { name: 'Create strategy' }));
    expect(screen.getByText('a strategy needs at least one label selector or namespace')).toBeTruthy();
  });

  it('flags a bad label key in its own row', () => {
    render(<StrategyForm initial={emptyDraft} submitLabel="Save" onSubmit={vi.fn()} />);
    fireEvent.change(screen.getByLabelText('Label key 1'), { target: { value: '-app' } });
    expect(errorOf(screen.getByLabelText('Label key 1'))).toMatch(/^name part must be 1-63 characters/);
    expect(errorOf(screen.getByLabelText('Value 1'))).toBeNull();
  });

  it('submits a valid strategy in the server\'s units', () => {
    const onSubmit = vi.fn();
    render(<StrategyForm initial={emptyDraft} submitLabel="Create strategy" onSubmit={onSubmit} />);
    fireEvent.change(screen.getByLabelText('Label key 1'), { target: { value: 'app.kubernetes.io/name' } });
    fireEvent.change(screen.getByLabelText('Value 1'), { target: { value: 'prometheus' } });
    fireEvent.change(screen.getByLabelText('Namespaces'), { target: { value: 'default, web' } });
    fireEvent.change(screen.getByLabelText('Command regex'), { target: { value: '^prometheus' } });
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '10' } });
    fireEvent.change(screen.getByLabelText('Time slice (ms)'), { target: { value: '4' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create strategy' }));
    expect(onSubmit).toHaveBeenCalledWith({
      strategyNamespace: '',
      labelSelectors: [{ key: 'app.kubernetes.io/name', value: 'prometheus' }],
      k8sNamespace: ['default', 'web'],
      commandRegex: '^prometheus',
      priority: 10,
      executionTime: 4_000_000,
    });
  });

  it('puts the server\'s 422 messages next to their inputs', () => {
    render(
      <StrategyForm
        initial={draftFromStrategy({
          strategyNamespace: '', labelSelectors: [{ key: 'app', value: 'x' }], k8sNamespace: [],
          commandRegex: '\\C', priority: 1, executionTime: 0,
        })}
        submitLabel="Save"
        onSubmit={vi.fn()}
        serverErrors={{ commandRegex: 'invalid regular expression (RE2 syntax): invalid escape sequence: \\C' }}
        serverMessage="commandRegex: invalid regular expression (RE2 syntax): invalid escape sequence: \C"
      />,
    );
    expect(errorOf(screen.getByLabelText('Command regex'))).toBe(
      'invalid regular expression (RE2 syntax): invalid escape sequence: \\C');
  });

  it('reports only valid drafts to the live preview', () => {
    const onChange = vi.fn();
    render(<StrategyForm initial={emptyDraft} submitLabel="Save" onSubmit={vi.fn()} onChange={onChange} />);
    expect(onChange).toHaveBeenLastCalledWith(null);
    fireEvent.change(screen.getByLabelText('Namespaces'), { target: { value: 'web' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ k8sNamespace: ['web'] }));
    fireEvent.change(screen.getByLabelText('Priority'), { target: { value: '99' } });
    expect(onChange).toHaveBeenLastCalledWith(null);
  });
});
