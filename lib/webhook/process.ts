import type { UserChange } from '../change.ts';
import type { PlannedUpdate } from '../ciam/apply.ts';
import type { Connection } from '../config/types.ts';
import type { Deliver, DeliverOptions, DeliveryReport } from '../delivery/delivery.ts';
import type { CompiledFilter } from '../filter/index.ts';
import { maskEmail, maskPhone } from '../log/mask.ts';
import type { Mapper } from '../mapping/index.ts';
import type {
  IgnoredEvent,
  InboundRequest,
  PreparedSource,
  SourceContext,
} from '../sources/types.ts';
import { type MapMemberships, membershipMapper } from './groups.ts';

/** A connection with its per-connection work (source schemas, JSONata) done at cold start. */
export interface PreparedConnection {
  connection: Connection;
  source: PreparedSource;
  mapper: Mapper;
  /** Maps membership events' source groups to CIAM groups; only `groups.map` when left out. */
  memberships?: MapMemberships;
  /** The connection's scoping filter, compiled; every change is inside when left out. */
  filter?: CompiledFilter;
}

export interface WebhookOutcome {
  statusCode: number;
  body: Record<string, unknown>;
  /** Counts by outcome, for metrics. */
  /**
   * Counts by outcome, for metrics: every ignored change in `ignored`, and those the field clocks
   * skipped or the connection's filter left out also by their reason.
   */
  counts: {
    applied: number;
    partial: number;
    queued: number;
    ignored: number;
    stale?: number;
    duplicate?: number;
    not_authoritative?: number;
    filtered?: number;
  };
  eventIds: string[];
  /** The changes left out before delivery, with why: ids, types and reasons, never values. */
  ignored: Array<Pick<IgnoredEvent, 'eventId' | 'eventType' | 'reason'>>;
  /** Who the changes were about, safe to log: emails and phones masked. */
  subjects: LoggableSubject[];
}

export interface LoggableSubject {
  eventId: string;
  eventType: string;
  externalId?: string;
  email?: string;
  phone?: string;
}

const loggable = ({ eventId, eventType, subject }: UserChange): LoggableSubject => ({
  eventId,
  eventType,
  ...(subject.externalId === undefined ? {} : { externalId: subject.externalId }),
  ...(subject.email === undefined ? {} : { email: maskEmail(subject.email) }),
  ...(subject.phone === undefined ? {} : { phone: maskPhone(subject.phone) }),
});

/** What `planChanges` fills in besides the planned updates. */
export interface PlanChangesOptions {
  /** Receives the changes left out: by the filter (`filtered`) or an unmapped group. */
  ignored: IgnoredEvent[];
  /** Receives the changes that go on to delivery, in order. */
  changes: UserChange[];
  signal?: AbortSignal;
  /** Told of each change before it is mapped (explain names the change a mapping error is in). */
  onChange?: (change: UserChange) => void;
}

/**
 * The connection's filter and mapping over a request's changes, in the sender's order: every
 * change is mapped before any is delivered, so one bad change refuses the whole request (the
 * mapper throws). Shared by the webhook path and `npm run explain`, so explain shows what the
 * real path decides.
 */
export const planChanges = async (
  prepared: PreparedConnection,
  source: readonly UserChange[],
  payload: unknown,
  options: PlanChangesOptions,
): Promise<{ planned: PlannedUpdate[]; filtered: number }> => {
  const { ignored, changes } = options;
  const planned: PlannedUpdate[] = [];
  const { filter } = prepared;
  // Without `update` in its paths the filter runs before mapping, so a change it leaves out is
  // not refused for a mapping problem, nor costs a group lookup.
  const early = filter !== undefined && !filter.roots.has('update');
  let filtered = 0;
  const outside = (change: UserChange, update: unknown): boolean => {
    if (filter === undefined || filter({ change, update, payload })) return false;
    filtered += 1;
    ignored.push({ eventId: change.eventId, eventType: change.eventType, reason: 'filtered' });
    return true;
  };
  for (const change of source) {
    options.onChange?.(change);
    if (change.memberships === undefined) {
      if (early && outside(change, undefined)) continue;
      const draft = await prepared.mapper.map(change);
      if (!early && outside(change, draft)) continue;
      changes.push(change);
      planned.push({ change, draft });
      continue;
    }
    // A membership event sets no attribute: its draft names only the user store, and that is the
    // `update` its filter sees.
    const draft = { UserStoreId: prepared.connection.userStoreId };
    if (outside(change, draft)) continue;
    const mapMemberships = prepared.memberships ?? membershipMapper(prepared.connection, undefined);
    const mapped = await mapMemberships(change, options.signal);
    if (mapped.status === 'unmapped') {
      ignored.push({
        eventId: change.eventId,
        eventType: change.eventType,
        reason: 'group_not_mapped',
      });
      continue;
    }
    changes.push(change);
    planned.push({ change, draft, memberships: mapped.memberships });
  }
  return { planned, filtered };
};

/**
 * Steps 3–6 of the data flow, after the request was authenticated and its JSON parsed: check it
 * against the source's schemas (once), turn it into canonical changes, map every change (so a bad
 * one is refused before anything reaches CIAM), then deliver.
 */
export const processWebhook = async (
  prepared: PreparedConnection,
  payload: unknown,
  request: InboundRequest,
  context: SourceContext,
  deliver: Deliver,
  traceId?: string,
): Promise<WebhookOutcome> => {
  const parsed = prepared.source.parse(payload, request);
  const outcome = await prepared.source.toChanges(parsed, request, context);
  const ignored: IgnoredEvent[] = [...outcome.ignored];
  const changes: UserChange[] = [];

  const { planned, filtered } = await planChanges(prepared, outcome.changes, payload, {
    ignored,
    changes,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
  });
  const ignoredBody = ignored.map(({ eventId, eventType, reason }) => ({
    eventId,
    eventType,
    reason,
  }));
  const eventIds = [...changes.map((c) => c.eventId), ...ignored.map((i) => i.eventId)];
  const subjects = changes.map(loggable);

  if (planned.length === 0) {
    const [only] = ignoredBody;
    return {
      statusCode: 200,
      body:
        ignoredBody.length === 1 && only
          ? { status: 'ignored', ...only }
          : { status: 'ignored', ignored: ignoredBody },
      counts: {
        applied: 0,
        partial: 0,
        queued: 0,
        ignored: ignored.length,
        ...(filtered > 0 ? { filtered } : {}),
      },
      eventIds,
      ignored: ignoredBody,
      subjects,
    };
  }

  // Added one by one: a property after a spread gives each object its own hidden class on Node 20
  // (V8 11), old-space garbage on every request.
  const options: DeliverOptions = {};
  if (context.signal !== undefined) options.signal = context.signal;
  if (traceId !== undefined) options.traceId = traceId;
  const report: DeliveryReport = await deliver(prepared.connection, planned, options);
  const results = report.results.map((result, index) =>
    // A skipped change names its event type as a source-ignored one does.
    result.status === 'ignored'
      ? { ...result, eventType: planned[index]?.change.eventType ?? 'unknown' }
      : result,
  );
  const count = (status: string) => results.filter((result) => result.status === status).length;
  const counts: WebhookOutcome['counts'] = {
    applied: count('applied'),
    partial: count('partial'),
    queued: count('queued'),
    ignored: ignored.length + count('ignored'),
  };
  if (filtered > 0) counts.filtered = filtered;
  for (const result of results) {
    if (result.status === 'ignored') counts[result.reason] = (counts[result.reason] ?? 0) + 1;
  }
  const status =
    counts.queued > 0
      ? 'queued'
      : counts.partial > 0
        ? 'partial'
        : counts.applied > 0
          ? 'applied'
          : 'ignored';
  const [first] = results;
  const body =
    results.length === 1 && first && ignoredBody.length === 0
      ? { ...first }
      : { status, results, ...(ignoredBody.length > 0 ? { ignored: ignoredBody } : {}) };
  return {
    statusCode: counts.queued > 0 ? 202 : 200,
    body,
    counts,
    eventIds,
    ignored: ignoredBody,
    subjects,
  };
};
