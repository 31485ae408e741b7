// The coordinator's JSON shapes (coordinator/api/json_shapes.h, openapi.cpp). Fields
// the server may not send yet (the control loop's node details) are optional.

export interface LabelSelector {
  key: string;
  value: string;
}

export interface StrategyInput {
  strategyNamespace: string;
  labelSelectors: LabelSelector[];
  k8sNamespace: string[];
  commandRegex: string;
  priority: number;
  executionTime: number; // ns
}

export interface Strategy extends StrategyInput {
  id: string;
  creatorID?: string;
  updaterID?: string;
  createdTime?: string;
  updatedTime?: string;
}

export type IntentStateName = 'Unknown' | 'Initialized' | 'Sent' | 'Applied' | 'Waiting' | 'Failed';

export interface Intent {
  id: string;
  strategyID: string;
  podID: string;
  podName: string;
  nodeID: string;
  k8sNamespace: string;
  commandRegex?: string;
  priority: number;
  executionTime: number;
  podLabels?: Record<string, string>;
  state: number;
  stateName?: IntentStateName | string;
  stateReason?: string;
  createdTime?: string;
  updatedTime?: string;
}

export interface PreviewPod {
  podId: string;
  podName: string;
  namespace: string;
  nodeName: string;
  labels?: Record<string, string>;
}

export interface StrategyPreview {
  podCount: number;
  pods: PreviewPod[];
  nodes: { name: string; podCount: number }[];
}

export interface NodeScheduler {
  enabled?: boolean;
  state?: string;
  reason?: string;
  lastExit?: string | { reason?: string; message?: string; time?: string; kind?: string } | null;
}

export interface NodeInfo {
  name: string;
  status?: 'Ready' | 'Unreachable' | 'Degraded' | 'Unknown' | string;
  reason?: string;
  scheduler?: NodeScheduler;
  ackedGeneration?: number;
  desiredGeneration?: number;
  lastContact?: string;
  intents?: Partial<Record<'applied' | 'waiting' | 'failed' | 'sent' | 'initialized', number>>;
}

// GET /api/v1/pods/metrics (coordinator/openapi): the scheduler's counters of the pod's
// policies, from its node's agent, as a series the coordinator keeps. Each sample
// describes the interval since the previous one (the first: everything so far).
export interface PodMetricsSample {
  time: string;
  cpuTimeNs: number;
  cpuUse: number | null;    // CPUs used on average in the interval; null for the first
  runs: number;
  waitP50Ns: number | null; // null: no runs in the interval
  waitP99Ns: number | null;
}

export interface PodMetrics {
  podId: string;
  podName?: string;
  namespace?: string;
  node: string;
  source?: 'scheduler' | 'simulated' | string;
  sampledAt?: string;
  cpuTimeNs: number;
  runs: number;
  waitTimeNs?: number;
  // boundsNs has one entry fewer than counts: the last bucket is open.
  waitHistogram?: { boundsNs: number[]; counts: number[] };
  samples?: PodMetricsSample[];
}

export interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
  needChangePassword: boolean;
}

export interface User {
  id: string;
  username: string;
  roles: string[] | null;
  status: number; // 1 active, 2 inactive, 3 must change password
  createdTime?: string;
}

export interface RolePolicy {
  permissionKey: string;
  self: boolean;
  k8sNamespace?: string;
  policyNamespace?: string;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  rolePolicies: RolePolicy[];
}

export interface Permission {
  key: string;
  resource?: string;
  action?: string;
  description?: string;
}
