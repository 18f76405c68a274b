import type { StateStore } from '@meso/state';
import type { AppRecord, Deployment, TaskRecord } from './model.js';

/** Every change to fw-marathon's state: the one write path (`MarathonState.apply`). */
export type StateCommand =
  | { type: 'putApp'; record: AppRecord }
  | { type: 'deleteApp'; appId: string }
  | { type: 'putDeployment'; deployment: Deployment }
  | { type: 'deleteDeployment'; id: string }
  | { type: 'putTask'; task: TaskRecord }
  | { type: 'deleteTask'; taskId: string }
  | { type: 'setFrameworkId'; frameworkId: string };

const appKey = (id: string): string => `apps/${id.replaceAll('/', '_')}`;
const taskKey = (id: string): string => `tasks/${id}`;
const deploymentKey = (id: string): string => `deployments/${id}`;
const FRAMEWORK_KEY = 'framework/id';

/**
 * fw-marathon's state: apps, deployments and the task-to-app map, in memory for reads and in a
 * `StateStore` for durability. Writes go through `apply` only, which persists each command
 * before it changes memory, so whatever the scheduler acts on is already durable.
 */
export class MarathonState {
  readonly apps = new Map<string, AppRecord>();
  readonly deployments = new Map<string, Deployment>();
  readonly tasks = new Map<string, TaskRecord>();
  private readonly byApp = new Map<string, Set<string>>();
  frameworkId: string | undefined;

  private constructor(private readonly store: StateStore) {}

  /** Loads everything persisted in `store`. */
  static async load(store: StateStore): Promise<MarathonState> {
    const state = new MarathonState(store);
    for (const e of await store.list<AppRecord>('apps')) state.apps.set(e.value.app.id, e.value);
    for (const e of await store.list<Deployment>('deployments')) state.deployments.set(e.value.id, e.value);
    for (const e of await store.list<TaskRecord>('tasks')) state.index(e.value);
    state.frameworkId = (await store.get<string>(FRAMEWORK_KEY))?.value;
    return state;
  }

  /** The tasks of an app (any version), not terminal. */
  tasksOf(appId: string): TaskRecord[] {
    return [...(this.byApp.get(appId) ?? [])].map((id) => this.tasks.get(id)!).filter(Boolean);
  }

  /** Deployments in creation order. */
  deploymentList(): Deployment[] {
    return [...this.deployments.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Persists the commands (concurrently), then applies them to memory. */
  async apply(commands: readonly StateCommand[]): Promise<void> {
    await Promise.all(commands.map((c) => this.persist(c)));
    for (const c of commands) this.applyInMemory(c);
  }

  private async persist(c: StateCommand): Promise<void> {
    switch (c.type) {
      case 'putApp':
        await this.store.put(appKey(c.record.app.id), c.record);
        return;
      case 'deleteApp':
        await this.store.delete(appKey(c.appId));
        return;
      case 'putDeployment':
        await this.store.put(deploymentKey(c.deployment.id), c.deployment);
        return;
      case 'deleteDeployment':
        await this.store.delete(deploymentKey(c.id));
        return;
      case 'putTask':
        await this.store.put(taskKey(c.task.taskId), c.task);
        return;
      case 'deleteTask':
        await this.store.delete(taskKey(c.taskId));
        return;
      case 'setFrameworkId':
        await this.store.put(FRAMEWORK_KEY, c.frameworkId);
        return;
    }
  }

  private applyInMemory(c: StateCommand): void {
    switch (c.type) {
      case 'putApp':
        this.apps.set(c.record.app.id, c.record);
        return;
      case 'deleteApp':
        this.apps.delete(c.appId);
        return;
      case 'putDeployment':
        this.deployments.set(c.deployment.id, c.deployment);
        return;
      case 'deleteDeployment':
        this.deployments.delete(c.id);
        return;
      case 'putTask':
        this.index(c.task);
        return;
      case 'deleteTask': {
        const t = this.tasks.get(c.taskId);
        if (!t) return;
        this.tasks.delete(c.taskId);
        this.byApp.get(t.appId)?.delete(c.taskId);
        return;
      }
      case 'setFrameworkId':
        this.frameworkId = c.frameworkId;
        return;
    }
  }

  private index(task: TaskRecord): void {
    this.tasks.set(task.taskId, task);
    let set = this.byApp.get(task.appId);
    if (!set) this.byApp.set(task.appId, (set = new Set()));
    set.add(task.taskId);
  }
}
