import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Counts events by connection and outcome (`applied`, `queued`, `ignored` or an error code). */
export type RecordOutcome = (connectionId: string, outcome: string, count: number) => void;

export const metricsOutcome =
  (metrics: Metrics): RecordOutcome =>
  (connectionId, outcome, count) => {
    // One EMF blob per outcome (dimensions differ per event), written by the one shared instance:
    // publishStoredMetrics() clears its dimensions after each blob. `singleMetric()` would build a
    // new Metrics and Console per call, about a quarter of a webhook's warm CPU.
    metrics.addDimensions({ connection: connectionId, outcome });
    metrics.addMetric('Events', MetricUnit.Count, count);
    metrics.publishStoredMetrics();
  };

/** What a reconciliation found out of step: users to update, to create, and orphans. */
export interface DriftCounts {
  changes: number;
  unmatched: number;
  orphaned: number;
}

export type RecordDrift = (connectionId: string, drift: DriftCounts) => void;

/**
 * `Drift` (their sum, which the drift alarm watches) and one metric per kind, by connection, in
 * one EMF blob per run.
 */
export const metricsDrift =
  (metrics: Metrics): RecordDrift =>
  (connectionId, { changes, unmatched, orphaned }) => {
    metrics.addDimensions({ connection: connectionId });
    metrics.addMetric('Drift', MetricUnit.Count, changes + unmatched + orphaned);
    metrics.addMetric('DriftChanges', MetricUnit.Count, changes);
    metrics.addMetric('DriftUnmatched', MetricUnit.Count, unmatched);
    metrics.addMetric('DriftOrphaned', MetricUnit.Count, orphaned);
    metrics.publishStoredMetrics();
  };
