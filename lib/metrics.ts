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
