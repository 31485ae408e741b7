// Typed calls, one per endpoint the UI uses.
import { api } from './client';
import type {
  Intent, NodeInfo, Permission, PodMetrics, Role, RolePolicy, Strategy, StrategyInput,
  StrategyPreview, TokenAnswer, User,
} from './types';

export const getSelf = () => api<User>('GET', '/api/v1/users/self');
export const getSelfPermissions = () =>
  api<{ permissions: { key: string; self: boolean }[] }>('GET', '/api/v1/users/self/permissions');
export const changeOwnPassword = (oldPassword: string, newPassword: string) =>
  api<TokenAnswer>('PUT', '/api/v1/users/self/password', { oldPassword, newPassword });

export const listStrategies = async () =>
  (await api<{ strategies: Strategy[] | null }>('GET', '/api/v1/strategies/self')).strategies ?? [];
export const createStrategy = (s: StrategyInput) =>
  api<{ strategy: Strategy; intentCount: number }>('POST', '/api/v1/strategies', s);
export const updateStrategy = (id: string, s: StrategyInput) =>
  api<{ strategy: Strategy; intentCount: number }>('PUT', '/api/v1/strategies', { ...s, strategyId: id });
export const deleteStrategy = (id: string) => api<unknown>('DELETE', '/api/v1/strategies', { strategyId: id });
export const previewStrategy = (s: StrategyInput) =>
  api<StrategyPreview>('POST', '/api/v1/strategies/preview', s);

export const listIntents = async (filter: { strategyId?: string; nodeId?: string } = {}) => {
  const q = new URLSearchParams();
  if (filter.strategyId) q.set('strategyId', filter.strategyId);
  if (filter.nodeId) q.set('nodeId', filter.nodeId);
  const qs = q.toString();
  return (await api<{ intents: Intent[] | null }>('GET', `/api/v1/intents/self${qs ? `?${qs}` : ''}`)).intents ?? [];
};

export const listNodes = async () => (await api<{ nodes: NodeInfo[] | null }>('GET', '/api/v1/nodes')).nodes ?? [];
export const getPodMetrics = (podId: string) =>
  api<PodMetrics>('GET', `/api/v1/pods/metrics?podId=${encodeURIComponent(podId)}`);

export const listUsers = async () => (await api<{ users: User[] | null }>('GET', '/api/v1/users')).users ?? [];
export const createUser = (username: string, password: string, roles: string[]) =>
  api<User>('POST', '/api/v1/users', { username, password, roles });
export const updateUserPermissions = (userID: string, roles: string[], status?: number) =>
  api<User>('PUT', '/api/v1/users/permissions', status === undefined ? { userID, roles } : { userID, roles, status });
export const resetPassword = (userID: string, newPassword: string) =>
  api<unknown>('PUT', '/api/v1/users/password', { userID, newPassword });

export const listRoles = async () => (await api<{ roles: Role[] | null }>('GET', '/api/v1/roles')).roles ?? [];
export const createRole = (name: string, description: string, rolePolicies: RolePolicy[]) =>
  api<Role>('POST', '/api/v1/roles', { name, description, rolePolicies });
export const updateRole = (id: string, description: string, rolePolicies: RolePolicy[]) =>
  api<Role>('PUT', '/api/v1/roles', { id, description, rolePolicies });
export const deleteRole = (id: string) => api<unknown>('DELETE', '/api/v1/roles', { id });
export const listPermissions = async () =>
  (await api<{ permissions: Permission[] | null }>('GET', '/api/v1/permissions')).permissions ?? [];
