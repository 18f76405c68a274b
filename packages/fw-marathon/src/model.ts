import type { AppDefinition } from './app-definition.js';

/** Where a task is in its life, as fw-marathon tracks it (Mesos task states, plus our intent). */
export type TaskPhase = 'TASK_STAGING' | 'TASK_STARTING' | 'TASK_RUNNING' | 'TASK_KILLING' | 'TASK_UNREACHABLE';

/** A task of an app, persisted before it is launched (the task-to-app map). */
export interface TaskRecord {
  taskId: string;
  appId: string;
  /** The app version the task runs. */
  version: string;
  agentId: string;
  host: string;
  /** The agent's address (from its endpoint), for readiness checks. */
  agentIp?: string;
  /** The agent's attributes as text, for constraints. */
  attributes: Record<string, string>;
  ports: number[];
  state: TaskPhase;
  /** `status.healthy` of the last update that had it; undefined = not reported yet. */
  healthy?: boolean;
  /** When the launch was decided (ms). */
  stagedAt: number;
  /** When the task was first seen running (ms). */
  startedAt?: number;
  /** Since when its agent is unreachable (ms); cleared when it is heard of again. */
  unreachableSince?: number;
  /** When fw-marathon asked to kill it (ms); it is on its way out. */
  killRequestedAt?: number;
  /** Why it is being killed. */
  killReason?: string;
}

/** An app with its current version and a bounded history. */
export interface AppRecord {
  app: AppDefinition;
  /** ISO timestamp of the current version. */
  version: string;
  /** ISO timestamp of the last change that needed a restart (Marathon's lastConfigChangeAt). */
  lastConfigChangeAt: string;
  lastScalingAt: string;
  /** Earlier versions, newest first (bounded). */
  history: { version: string; app: AppDefinition; configVersion?: string }[];
  /** Launch backoff: failures in a row and when the next launch may happen. */
  backoff: { failures: number; delayUntil: number };
  lastTaskFailure?: TaskFailure;
  /** The app is being removed: its tasks are killed, then the record goes. Hidden from the API. */
  stopping?: boolean;
}

/** The last task of an app that ended by itself (Marathon's `lastTaskFailure`). */
export interface TaskFailure {
  appId: string;
  taskId: string;
  state: string;
  message: string;
  host: string;
  timestamp: string;
  version: string;
}

/** Kinds of deployment actions, with Marathon's names. */
export type DeploymentActionKind = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';

/** One action of a deployment step: what happens to which app. */
export interface DeploymentAction {
  action: DeploymentActionKind;
  app: string;
}

/** A deployment: ordered steps of concurrent actions, driven until every app reached its target. */
export interface Deployment {
  id: string;
  version: string;
  affectedApps: string[];
  steps: { actions: DeploymentAction[] }[];
  /** Index of the step being worked on (0-based). */
  currentStep: number;
  /** The definitions before the change (absent = the app did not exist), for rollback. */
  previous: Record<string, AppDefinition | null>;
  createdAt: number;
  /** ms; after it the deployment is failed (and rolled back when `rollbackOnDeadline`). */
  deadline: number;
  rollbackOnDeadline: boolean;
}
