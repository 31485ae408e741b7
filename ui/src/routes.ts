// Every path of the SPA. The coordinator routes the same top-level prefixes to
// index.html (coordinator/web/ui_routes.cpp): keep the two lists in step.
export const paths = {
  login: '/login',
  changePassword: '/change-password',
  strategies: '/strategies',
  newStrategy: '/strategies/new',
  editStrategy: (id: string) => `/strategies/${encodeURIComponent(id)}/edit`,
  intents: '/intents',
  nodes: '/nodes',
  pod: (uid: string) => `/pods/${encodeURIComponent(uid)}`,
  users: '/admin/users',
  roles: '/admin/roles',
  permissions: '/admin/permissions',
} as const;

// Permission keys (coordinator/rbac/permissions.h).
export const perm = {
  strategyCreate: 'schedule_strategy.create',
  strategyRead: 'schedule_strategy.read',
  strategyUpdate: 'schedule_strategy.update',
  strategyDelete: 'schedule_strategy.delete',
  intentRead: 'schedule_intent.read',
  intentDelete: 'schedule_intent.delete',
  nodesRead: 'pod_pid_mapping.read',
  userCreate: 'user.create',
  userRead: 'user.read',
  userPermissionUpdate: 'user.permission.update',
  userPasswordReset: 'user.password.reset',
  roleCreate: 'role.create',
  roleRead: 'role.read',
  roleUpdate: 'role.update',
  roleDelete: 'role.delete',
  permissionRead: 'permission.read',
} as const;
