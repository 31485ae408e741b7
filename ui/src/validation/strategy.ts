// The strategy form's rules, the same as the server's (coordinator/domain/validation.h)
// and with the same field names, so a message lands next to the same input whether it
// came from here or from a 422. The server stays the authority: the command regex is
// RE2 syntax, which the browser cannot compile exactly, so only what is certainly
// wrong is caught here (the live preview shows the server's verdict at once).
import type { StrategyInput } from '../api/types';

export const PRIORITY_MIN = -20;
export const PRIORITY_MAX = 20;
export const EXECUTION_TIME_MIN_NS = 500_000;
export const EXECUTION_TIME_MAX_NS = 100_000_000;
export const MAX_COMMAND_REGEX_BYTES = 1024;
export const MAX_LABEL_SELECTORS = 32;
export const MAX_NAMESPACES = 64;

export type FieldErrors = Record<string, string>;

const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function isDns1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((p) => DNS1123_LABEL.test(p));
}

export function checkLabelKey(key: string): string {
  if (key === '') return 'must not be empty';
  let name = key;
  const slash = key.indexOf('/');
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (!isDns1123Subdomain(prefix)) {
      return `prefix "${prefix}" must be a DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', at most 253 characters)`;
    }
  }
  if (!LABEL_NAME.test(name)) {
    return 'name part must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric character';
  }
  return '';
}

export function checkLabelValue(value: string): string {
  if (value === '' || LABEL_NAME.test(value)) return '';
  return 'must be empty or 1-63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric character';
}

export function checkNamespace(ns: string): string {
  if (DNS1123_LABEL.test(ns)) return '';
  return `"${ns}" is not a valid namespace (DNS-1123 label: 1-63 lower-case alphanumerics or '-', starting and ending with an alphanumeric character)`;
}

export function checkCommandRegex(regex: string): string {
  if (new TextEncoder().encode(regex).length > MAX_COMMAND_REGEX_BYTES) {
    return `must be at most ${MAX_COMMAND_REGEX_BYTES} bytes`;
  }
  if (regex === '') return '';
  if (/\(\?<?[=!]/.test(regex)) {
    return 'invalid regular expression (RE2 syntax): look-around assertions are not supported';
  }
  if (/\\[1-9]/.test(regex)) {
    return 'invalid regular expression (RE2 syntax): back-references are not supported';
  }
  try {
    // RE2's (?P<name>...) is JavaScript's (?<name>...).
    new RegExp(regex.replace(/\(\?P</g, '(?<'), 'u');
  } catch (e) {
    return `invalid regular expression: ${(e as Error).message}`;
  }
  return '';
}

export function validateStrategy(s: StrategyInput): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => {
    if (message) errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
  };
  if (s.strategyNamespace !== '' && !DNS1123_LABEL.test(s.strategyNamespace)) {
    add('strategyNamespace', checkNamespace(s.strategyNamespace));
  }
  if (s.labelSelectors.length > MAX_LABEL_SELECTORS) {
    add('labelSelectors', `at most ${MAX_LABEL_SELECTORS} selectors are allowed`);
  } else {
    const seen = new Set<string>();
    s.labelSelectors.forEach((sel, i) => {
      add(`labelSelectors[${i}].key`, checkLabelKey(sel.key));
      add(`labelSelectors[${i}].value`, checkLabelValue(sel.value));
      if (seen.has(sel.key)) add(`labelSelectors[${i}].key`, `duplicate key "${sel.key}"`);
      seen.add(sel.key);
    });
  }
  if (s.k8sNamespace.length > MAX_NAMESPACES) {
    add('k8sNamespace', `at most ${MAX_NAMESPACES} namespaces are allowed`);
  } else {
    s.k8sNamespace.forEach((ns, i) => add(`k8sNamespace[${i}]`, checkNamespace(ns)));
  }
  if (s.labelSelectors.length === 0 && s.k8sNamespace.length === 0) {
    add('labelSelectors', 'a strategy needs at least one label selector or namespace');
  }
  add('commandRegex', checkCommandRegex(s.commandRegex));
  if (!Number.isInteger(s.priority) || s.priority < PRIORITY_MIN || s.priority > PRIORITY_MAX) {
    add('priority', `must be between ${PRIORITY_MIN} and ${PRIORITY_MAX}, got ${s.priority}`);
  }
  if (
    !Number.isInteger(s.executionTime) ||
    (s.executionTime !== 0 && (s.executionTime < EXECUTION_TIME_MIN_NS || s.executionTime > EXECUTION_TIME_MAX_NS))
  ) {
    add(
      'executionTime',
      `must be 0 (scheduler default) or between ${EXECUTION_TIME_MIN_NS} and ${EXECUTION_TIME_MAX_NS} ns, got ${s.executionTime}`,
    );
  }
  return errors;
}

// All errors of namespaces and of selector rows, gathered for inputs that edit a list.
export function errorsUnder(errors: FieldErrors, prefix: string): string {
  return Object.entries(errors)
    .filter(([k]) => k === prefix || k.startsWith(`${prefix}[`))
    .map(([, v]) => v)
    .join('; ');
}
