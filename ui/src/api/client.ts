// The one place that talks to the coordinator. The access token lives in this module's
// memory only (never in localStorage or a readable cookie); the refresh token is an
// HttpOnly cookie the browser sends to /api/v1/auth/* by itself. A 401 on an API call
// triggers one refresh and one retry.
import { ApiError } from './errors';
import type { TokenAnswer } from './types';

let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inflightRefresh: Promise<boolean> | null = null;
const sessionListeners = new Set<(signedIn: boolean) => void>();

export function onSessionChange(fn: (signedIn: boolean) => void): () => void {
  sessionListeners.add(fn);
  return () => sessionListeners.delete(fn);
}

function notify(signedIn: boolean) {
  for (const fn of sessionListeners) fn(signedIn);
}

export function hasAccessToken(): boolean {
  return accessToken !== null;
}

export function setTokens(answer: TokenAnswer | null) {
  clearTimeout(refreshTimer);
  accessToken = answer ? answer.accessToken : null;
  if (answer && answer.expiresIn > 0) {
    // Refresh a little before the access token expires.
    const ms = Math.max(5_000, answer.expiresIn * 1000 * 0.8);
    refreshTimer = setTimeout(() => void refreshSession(), ms);
  }
}

async function parse(resp: Response): Promise<unknown> {
  const text = await resp.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!resp.ok) {
    const msg =
      body && typeof body === 'object' && 'error' in body && typeof body.error === 'string'
        ? body.error
        : `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, msg);
  }
  if (body && typeof body === 'object' && 'data' in body) return (body as { data: unknown }).data;
  return body;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  return fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let resp = await send(method, path, body);
  if (resp.status === 401 && accessToken && !path.startsWith('/api/v1/auth/')) {
    if (await refreshSession()) resp = await send(method, path, body);
  }
  return (await parse(resp)) as T;
}

// Uses the refresh cookie. True when a new access token was obtained.
export function refreshSession(): Promise<boolean> {
  if (!inflightRefresh) {
    inflightRefresh = (async () => {
      try {
        const resp = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
          cache: 'no-store',
        });
        const data = (await parse(resp)) as TokenAnswer;
        setTokens(data);
        notify(true);
        return true;
      } catch {
        const had = accessToken !== null;
        setTokens(null);
        if (had) notify(false);
        return false;
      } finally {
        inflightRefresh = null;
      }
    })();
  }
  return inflightRefresh;
}

export async function login(username: string, password: string): Promise<TokenAnswer> {
  const data = await api<TokenAnswer>('POST', '/api/v1/auth/login', {
    username,
    password,
    refreshTokenCookie: true,
  });
  setTokens(data);
  return data;
}

export async function logout(): Promise<void> {
  try {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
  } finally {
    setTokens(null);
    notify(false);
  }
}
