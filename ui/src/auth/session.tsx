// Who is signed in and what they may do. On load the session is restored through the
// refresh cookie (if any); the access token stays in api/client.ts's memory.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import * as client from '../api/client';
import { getSelf, getSelfPermissions } from '../api/endpoints';
import type { User } from '../api/types';

export interface Session {
  status: 'loading' | 'signedOut' | 'mustChangePassword' | 'signedIn';
  user: User | null;
  username: string | null; // of the user, or of the last sign-in (before a forced password change)
  permissions: Set<string>;
  can: (key: string) => boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  reload: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Session['status']>('loading');
  const [user, setUser] = useState<User | null>(null);
  const [permissions, setPermissions] = useState<Set<string>>(new Set());
  const [loginName, setLoginName] = useState<string | null>(null);

  const reload = useCallback(async () => {
    if (!client.hasAccessToken()) {
      setStatus('signedOut');
      return;
    }
    try {
      const [self, perms] = await Promise.all([getSelf(), getSelfPermissions()]);
      setUser(self);
      setPermissions(new Set(perms.permissions.map((p) => p.key)));
      setStatus('signedIn');
    } catch (e) {
      // 403 "password change required" is the only refusal a fresh token gets.
      if (e instanceof Error && /password change required/.test(e.message)) {
        setStatus('mustChangePassword');
      } else {
        setStatus('signedOut');
      }
    }
  }, []);

  useEffect(() => {
    void (async () => {
      await client.refreshSession();
      await reload();
    })();
    return client.onSessionChange((signedIn) => {
      if (!signedIn) {
        setUser(null);
        setPermissions(new Set());
        setStatus('signedOut');
      }
    });
  }, [reload]);

  const signIn = useCallback(
    async (username: string, password: string) => {
      const answer = await client.login(username, password);
      setLoginName(username);
      if (answer.needChangePassword) {
        setStatus('mustChangePassword');
        return;
      }
      await reload();
    },
    [reload],
  );

  const signOut = useCallback(async () => {
    await client.logout();
  }, []);

  const value = useMemo<Session>(
    () => ({ status, user, username: user?.username ?? loginName, permissions, can: (k) => permissions.has(k), signIn, signOut, reload }),
    [status, user, loginName, permissions, signIn, signOut, reload],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
