// The client-side rules give the server's verdicts (coordinator/domain/validation.cpp)
// with the server's field names.
import { describe, expect, it } from 'vitest';
import type { StrategyInput } from '../api/types';
import { parseFieldErrors } from '../api/errors';
import { validateStrategy } from './strategy';

const base: StrategyInput = {
  strategyNamespace: '',
  labelSelectors: [{ key: 'app.kubernetes.io/name', value: 'prometheus' }],
  k8sNamespace: [],
  commandRegex: '',
  priority: 10,
  executionTime: 4_000_000,
};

describe('validateStrategy', () => {
  it('accepts the upstream example', () => {
    expect(validateStrategy(base)).toEqual({});
    expect(validateStrategy({ ...base, executionTime: 20_000_000, k8sNamespace: ['default'] })).toEqual({});
  });
  it('needs a label selector or a namespace', () => {
    expect(validateStrategy({ ...base, labelSelectors: [] }).labelSelectors).toBe(
      'a strategy needs at least one label selector or namespace');
    expect(validateStrategy({ ...base, labelSelectors: [], k8sNamespace: ['web'] })).toEqual({});
  });
  it('checks label keys and values as Kubernetes does', () => {
    const e = validateStrategy({
      ...base,
      labelSelectors: [
        { key: '', value: '' },
        { key: 'Bad_Prefix/name', value: 'ok' },
        { key: 'app', value: '-x' },
        { key: 'app', value: '' },
      ],
    });
    expect(e['labelSelectors[0].key']).toBe('must not be empty');
    expect(e['labelSelectors[1].key']).toMatch(/^prefix "Bad_Prefix" must be a DNS-1123 subdomain/);
    expect(e['labelSelectors[2].value']).toMatch(/^must be empty or 1-63 characters/);
    expect(e['labelSelectors[3].key']).toBe('duplicate key "app"');
    expect(e['labelSelectors[3].value']).toBeUndefined(); // empty value = "the key exists"
  });
  it('checks namespaces as DNS-1123 labels', () => {
    const e = validateStrategy({ ...base, k8sNamespace: ['web', 'Web', 'a'.repeat(64)] });
    expect(Object.keys(e)).toEqual(['k8sNamespace[1]', 'k8sNamespace[2]']);
    expect(e['k8sNamespace[1]']).toMatch(/^"Web" is not a valid namespace/);
  });
  it('keeps priority in -20..20', () => {
    expect(validateStrategy({ ...base, priority: 20 })).toEqual({});
    expect(validateStrategy({ ...base, priority: -20 })).toEqual({});
    expect(validateStrategy({ ...base, priority: 21 }).priority).toBe('must be between -20 and 20, got 21');
    expect(validateStrategy({ ...base, priority: 1.5 }).priority).toBeDefined();
  });
  it('allows a slice of 0 or 0.5..100 ms', () => {
    expect(validateStrategy({ ...base, executionTime: 0 })).toEqual({});
    expect(validateStrategy({ ...base, executionTime: 500_000 })).toEqual({});
    expect(validateStrategy({ ...base, executionTime: 100_000_000 })).toEqual({});
    expect(validateStrategy({ ...base, executionTime: 499_999 }).executionTime).toBe(
      'must be 0 (scheduler default) or between 500000 and 100000000 ns, got 499999');
    expect(validateStrategy({ ...base, executionTime: 100_000_001 }).executionTime).toBeDefined();
  });
  it('refuses regexes RE2 cannot compile', () => {
    expect(validateStrategy({ ...base, commandRegex: '^nginx' })).toEqual({});
    expect(validateStrategy({ ...base, commandRegex: '(?P<name>worker)-\\d+' })).toEqual({});
    expect(validateStrategy({ ...base, commandRegex: '(unclosed' }).commandRegex).toMatch(/invalid regular expression/);
    expect(validateStrategy({ ...base, commandRegex: 'a(?=b)' }).commandRegex).toMatch(/look-around/);
    expect(validateStrategy({ ...base, commandRegex: '(a)\\1' }).commandRegex).toMatch(/back-references/);
    expect(validateStrategy({ ...base, commandRegex: 'x'.repeat(1025) }).commandRegex).toBe('must be at most 1024 bytes');
  });
});

describe('parseFieldErrors', () => {
  it('splits the server\'s joined 422 message by field', () => {
    expect(parseFieldErrors(
      'labelSelectors[0].key: must not be empty; priority: must be between -20 and 20, got 30; commandRegex: invalid regular expression (RE2 syntax): missing ): (a',
    )).toEqual({
      'labelSelectors[0].key': 'must not be empty',
      priority: 'must be between -20 and 20, got 30',
      commandRegex: 'invalid regular expression (RE2 syntax): missing ): (a',
    });
    expect(parseFieldErrors('strategy not found')).toEqual({ '': 'strategy not found' });
  });
});
