// Errors from the coordinator: {"success":false,"error":"..."} with an HTTP status.
// Validation failures (422) name their fields: "labelSelectors[0].key: must not be
// empty; priority: must be between -20 and 20, got 30" (domain/validation.cpp join()).

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'ApiError';
  }
  // field -> message, for 422 answers; "" holds what names no field.
  get fieldErrors(): Record<string, string> {
    return this.status === 422 ? parseFieldErrors(this.message) : {};
  }
}

const FIELD = /^([A-Za-z][A-Za-z0-9]*(?:\[\d+\])?(?:\.[A-Za-z]+)?): (.*)$/s;

export function parseFieldErrors(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  let last = '';
  for (const part of message.split('; ')) {
    const m = FIELD.exec(part);
    if (m) {
      last = m[1];
      out[last] = out[last] ? `${out[last]}; ${m[2]}` : m[2];
    } else if (last) {
      out[last] += `; ${part}`; // a message that itself contained "; "
    } else {
      out[''] = out[''] ? `${out['']}; ${part}` : part;
    }
  }
  return out;
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return `Refused by the server: ${e.message}`;
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
