// What users configure besides flows — groups, maps, thresholds — with the event log and the
// state file that keeps it all (flow specs included) across restarts. One object, built by
// src/app.ts and handed to the REST routes and to the flow engine through ApiContext.registries:
//
//   ctx.registries.groups     GroupLookup for `group:` key functions
//   ctx.registries.maps       MapLookup for `map:` key functions
//   ctx.registries.state      StateStoreLike: register the flow specs section
//   ctx.registries.thresholds setFlowValues(FlowValuesSource) for byFlow thresholds
//   ctx.registries.events     the event log (subscribe() for script hosts)

import type { Clock } from './clock.js';
import { EventLog, type EventLogConfig } from './events.js';
import { GroupRegistry, type GroupRegistryConfig } from './groups.js';
import { MapRegistry, type MapRegistryConfig } from './maps.js';
import type { MetricQuery } from './query.js';
import { StateStore, type StateLogger, type StateLoadReport } from './state-store.js';
import { ThresholdEngine, type ThresholdConfig } from './thresholds.js';

export interface RegistriesConfig {
  /** Directory of the state file. */
  dataDir: string;
  /** Read and write the state file (default true). */
  persist: boolean;
  /** Debounce of state writes, ms. */
  stateDebounceMs: number;
  events: Partial<EventLogConfig>;
  thresholds: Partial<ThresholdConfig>;
  groups: Partial<GroupRegistryConfig>;
  maps: Partial<MapRegistryConfig>;
}

export class Registries {
  readonly state: StateStore;
  readonly groups: GroupRegistry;
  readonly maps: MapRegistry;
  readonly events: EventLog;
  readonly thresholds: ThresholdEngine;

  constructor(
    query: MetricQuery,
    readonly clock: Clock,
    config: Partial<RegistriesConfig> & { dataDir: string },
    private readonly logger?: StateLogger,
  ) {
    this.state = new StateStore({ dir: config.dataDir, enabled: config.persist ?? true, ...(config.stateDebounceMs !== undefined ? { debounceMs: config.stateDebounceMs } : {}) }, logger);
    this.groups = new GroupRegistry(config.groups);
    this.maps = new MapRegistry(config.maps);
    this.events = new EventLog(clock, config.events);
    const tc = { ...config.thresholds };
    if (tc.intervalMs !== undefined) tc.intervalMs = Math.max(100, tc.intervalMs);
    this.thresholds = new ThresholdEngine(query, this.events, clock, tc);
    this.thresholds.onError = (err, thresholdID) => this.logger?.error({ err, thresholdID }, 'threshold evaluation failed');
    this.groups.onChange(() => this.state.changed('groups'));
    this.maps.onChange(() => this.state.changed('maps'));
    this.thresholds.onChange(() => this.state.changed('thresholds'));
  }

  /** Read the state file and load groups, maps and thresholds from it (never throws). */
  load(): StateLoadReport {
    const report = this.state.load();
    this.state.register(this.groups.section());
    this.state.register(this.maps.section());
    this.state.register(this.thresholds.section());
    return report;
  }

  /** Start the threshold timer. */
  start(): void {
    this.thresholds.start();
  }

  /** Stop evaluating, answer waiting long-polls, write pending state. */
  async stop(): Promise<void> {
    this.thresholds.stop();
    this.events.close();
    await this.state.stop();
  }

  /** Fields for /analyzer/json. */
  analyzer(): Record<string, number | string> {
    return {
      eventsGenerated: this.events.stats.generated,
      eventsRetained: this.events.size,
      eventsWaiting: this.events.waiting,
      thresholds: this.thresholds.size,
      thresholdEvaluations: this.thresholds.stats.evaluations,
      thresholdEvaluationMs: Math.round(this.thresholds.stats.lastEvaluationMs * 1000) / 1000,
      thresholdSuppressed: this.thresholds.stats.suppressed,
      groups: this.groups.size,
      groupCidrs: this.groups.entryCount,
      maps: this.maps.size,
      ...this.state.status(),
    };
  }
}
