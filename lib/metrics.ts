import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Counts events by connection and outcome (`applied`, `queued`, `ignored` or an error code). */
export type RecordOutcome = (connectionId: string, outcome: string, count: number) => void;

export const metricsOutcome =
  (metrics: Metrics): RecordOutcome =>
  (connectionId, outcome, count) => {
    // One EMF blob per outcome: dimensions differ per event, so the shared instance cannot batch them.
    const single = metrics.singleMetric();
    single.addDimensions({ connection: connectionId, outcome });
    single.addMetric('Events', MetricUnit.Count, count);
  };
