// What the adapter would do with one delivery, or one reconciliation plan entry, without writing
// anything: the real pieces (the prepared connection, the source, the mapping, the resolver, the
// field clocks and planWrite) composed as processWebhook and applyUpdate compose them, with a CIAM
// client that can only read, and the request the Tencent client would send, signed but not sent.
import { createHash } from 'node:crypto';
import type { IgnoredReason, UserChange } from '../change.ts';
import {
  type ApplyTarget,
  needsUserRead,
  type PlannedUpdate,
  planWrite,
  type WritePlan,
} from '../ciam/apply.ts';
import {
  type Clock,
  type ClockField,
  clockFieldsOf,
  connectionTag,
  customField,
  type FieldVerdict,
  groupField,
  MEMBERSHIP_FLOOR,
} from '../ciam/field-clocks.ts';
import { createGroupResolver } from '../ciam/groups.ts';
import { createUserResolver, type ResolveStrategy } from '../ciam/resolve.ts';
import { clockOf, readClocks } from '../ciam/stale-guard.ts';
import type { CiamApi, CiamUser, UpdateUserRequest } from '../ciam/types.ts';
import { assertValidUpdateUser } from '../ciam/update-user-schema.ts';
import type { AdapterConfig, WebhookSourceType } from '../config/types.ts';
import { applyTargetsOf } from '../delivery/delivery.ts';
import { AdapterError, isAdapterError, SignatureError } from '../errors.ts';
import type { HttpFetch } from '../fetch.ts';
import { assertJsonContentType, bodyText, type InboundRequest } from '../http/request.ts';
import { compileAllowList } from '../http/source-ip.ts';
import { isRecord } from '../is-record.ts';
import { maskEmail, maskPhone } from '../log/mask.ts';
import { deduplicationId, userGroupId } from '../queue/envelope.ts';
import type { SecretSource } from '../secrets/types.ts';
import { SOURCES } from '../sources/registry.ts';
import type { SourceContext, SourceDefinition } from '../sources/types.ts';
import type { PreparedTencentRequest } from '../tencent/client.ts';
import { prepareConnections } from '../webhook/prepare.ts';
import { type PreparedConnection, planChanges } from '../webhook/process.ts';
import { type Masked, maskRequest, maskValue, redactHeaders } from './mask.ts';

export interface ExplainDeps {
  config: AdapterConfig;
  /** Only its reads are used: explain wraps it so that a write fails instead of reaching CIAM. */
  ciam: CiamApi;
  /** The Tencent client's `prepare`: the request a call would send, signed, not sent. */
  prepareRequest: (action: string, params: object) => Promise<PreparedTencentRequest>;
  secrets: SecretSource;
  fetch: HttpFetch;
  /** Epoch milliseconds: the time signatures are checked at. */
  now: () => number;
  sources?: Readonly<Record<WebhookSourceType, SourceDefinition>>;
}

/** A delivery as the webhook function receives it, or a reconciliation plan's snapshot change. */
export type ExplainInput =
  | {
      kind: 'delivery';
      connectionId: string;
      request: InboundRequest;
      /** API Gateway's source IP, when the delivery came with one; checked against the list. */
      sourceIp?: string;
    }
  | {
      kind: 'snapshot';
      connectionId: string;
      change: UserChange;
      /** The CIAM user id the plan entry names, compared with the one resolution finds. */
      planUserId?: string;
    };

export interface TraceError {
  code: string;
  message: string;
  /** The error's own reason, where it gives one (a signature's `timestamp_out_of_tolerance`). */
  reason?: string;
}

export interface ClockView {
  at: string;
  /** The connection id when it is one of this config's, else its tag. */
  connection: string;
  event: string;
  member?: boolean;
}

/** One field the change carries: its clock decision and the masked diff against CIAM. */
export interface FieldTrace {
  field: string;
  /** `unclocked`: a field the clocks do not cover, or a connection without the guard. */
  verdict: FieldVerdict | 'unclocked';
  /** The field's clock at CIAM now, if it has one. */
  clock?: ClockView;
  /** The connections ranked for the field by the user store's authority, when it has any. */
  authority?: string[];
  now: Masked;
  wouldBe: Masked;
  changed: boolean;
}

export interface ChangeTrace {
  eventId: string;
  eventType: string;
  occurredAt: string;
  subject: Record<string, string>;
  /** What the mapping made of it: the fields it sets, or the CIAM memberships. */
  mapping:
    | { fields: string[] }
    | { memberships: { groupId: string; member: boolean }[] }
    | { error: TraceError };
  resolve?: { by: string; value: string; userId?: string; error?: TraceError; planUserId?: string };
  /** Queued connections: where the real path would put the change. */
  queue?: { groupId: string; deduplicationId: string };
  /** Whether applying reads the user (DescribeUserById) before writing. */
  readsUser?: boolean;
  /** The change's own clock, with the stale-event guard. */
  clock?: ClockView;
  fields?: FieldTrace[];
  decision?: 'write' | 'skip' | 'error';
  skipReason?: Extract<IgnoredReason, 'stale' | 'duplicate' | 'not_authoritative'>;
  error?: TraceError;
  request?: RequestTrace;
}

export interface RequestTrace {
  action: 'UpdateUser';
  url: string;
  headers: Record<string, string>;
  /** The exact bytes the real path sends. Personal data: the EXPLAIN line carries a hash instead. */
  body: string;
  bodySha256: string;
  bytes: number;
  masked: Record<string, unknown>;
}

export type ExplainOutcome =
  | 'would_write'
  | 'would_skip'
  | 'would_fail'
  | 'ignored'
  | 'refused'
  | 'handshake';

export interface ExplainTrace {
  connection: { id: string; source: string; delivery: string; userStoreId: string };
  input: 'delivery' | 'snapshot';
  outcome: ExplainOutcome;
  /** Deliveries only. */
  sourceIp?: { ip: string; verdict: 'allowed' | 'refused' | 'no_list' };
  /** `not_checked`: authentication failed for another reason (a secret that could not be read). */
  signature?: { verdict: 'valid' | 'invalid' | 'not_checked'; error?: TraceError };
  /** Why the real path would refuse the whole delivery (its status and code), and at which step. */
  refused?: TraceError & { step: string; statusCode: number };
  ignored: { eventId: string; eventType: string; reason: IgnoredReason }[];
  changes: ChangeTrace[];
  /** What the real path would answer with, for the changes it would apply. */
  note?: string;
  /** Always 0: explain never writes. */
  writes: 0;
}

const errorOf = (error: unknown): TraceError => {
  if (!isAdapterError(error)) {
    return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
  }
  const { details } = error;
  const reason =
    isRecord(details) && typeof details.reason === 'string' ? details.reason : undefined;
  return {
    code: error.code,
    message: error.message,
    ...(reason === undefined ? {} : { reason }),
  };
};

/** A CIAM client that reads and refuses every write, so explain cannot change a user. */
const readOnly = (ciam: CiamApi): CiamApi => {
  const refuse = (action: string) => () =>
    Promise.reject(new AdapterError('INTERNAL', `explain never writes (${action})`));
  return {
    describeUserById: (request, options) => ciam.describeUserById(request, options),
    listUserByProperty: (request, options) => ciam.listUserByProperty(request, options),
    describeUser: (request, options) => ciam.describeUser(request, options),
    listUserGroups: (request, options) => ciam.listUserGroups(request, options),
    listGroupMembers: (request, options) => ciam.listGroupMembers(request, options),
    updateUser: refuse('UpdateUser'),
    createUser: refuse('CreateUser'),
    updateUserStatus: refuse('UpdateUserStatus'),
  };
};

const maskedSubject = (change: UserChange): Record<string, string> => {
  const { subject } = change;
  const out: Record<string, string> = {};
  if (subject.externalId !== undefined) out.externalId = subject.externalId;
  if (subject.ciamUserId !== undefined) out.ciamUserId = subject.ciamUserId;
  if (subject.email !== undefined) out.email = maskEmail(subject.email);
  if (subject.phone !== undefined) out.phone = maskPhone(subject.phone);
  if (subject.userName !== undefined)
    out.userName = maskValue('UserName', subject.userName) as string;
  return out;
};

/** The lookup resolution makes, masked: which strategy, and by what value. */
const lookupOf = (strategy: ResolveStrategy, change: UserChange): { by: string; value: string } => {
  const { subject } = change;
  switch (strategy.by) {
    case 'userId':
      return { by: 'userId', value: subject.ciamUserId ?? '(none)' };
    case 'email':
      return {
        by: 'email',
        value: subject.email === undefined ? '(none)' : maskEmail(subject.email),
      };
    case 'phone':
      return {
        by: 'phone',
        value: subject.phone === undefined ? '(none)' : maskPhone(subject.phone),
      };
    case 'indexedAttribute':
      return { by: `indexedAttribute${strategy.index}`, value: subject.externalId ?? '(none)' };
  }
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const userValue = (user: CiamUser | undefined, field: string): unknown => {
  if (user === undefined) return undefined;
  if (field.startsWith('custom:')) {
    const name = field.slice(7);
    return user.CustomAttributes?.find((item) => item.Name === name)?.Value;
  }
  return user[field];
};

const requestValue = (request: UpdateUserRequest | undefined, field: string): unknown => {
  if (request === undefined) return undefined;
  if (field.startsWith('custom:')) {
    const name = field.slice(7);
    return request.CustomizationAttributes?.find((item) => item.Name === name)?.Value;
  }
  return (request as Record<string, unknown>)[field];
};

/** The fields a planned update carries, as answers name them, with their clocked field. */
const carriedFields = (
  planned: PlannedUpdate,
): { name: string; clock: ClockField | undefined }[] => {
  const fields: { name: string; clock: ClockField | undefined }[] = [];
  const clocked = new Set(clockFieldsOf(planned.draft));
  for (const [key, value] of Object.entries(planned.draft)) {
    if (value === undefined || key === 'UserStoreId' || key === 'CustomizationAttributes') continue;
    fields.push({ name: key, clock: clocked.has(key) ? key : undefined });
  }
  for (const item of planned.draft.CustomizationAttributes ?? []) {
    fields.push({ name: `custom:${item.Name}`, clock: customField(item.Name) });
  }
  for (const { groupId } of planned.memberships ?? []) {
    fields.push({ name: `group:${groupId}`, clock: groupField(groupId) });
  }
  return fields;
};

/**
 * Runs the trace. Never throws for what the real path would refuse or fail: that is part of the
 * trace (`refused`, a change's `error`). Throws only for a connection the config lacks.
 */
export const explain = async (deps: ExplainDeps, input: ExplainInput): Promise<ExplainTrace> => {
  const { config } = deps;
  const connection = config.connections.find(({ id }) => id === input.connectionId);
  if (connection === undefined) {
    throw new AdapterError('CONNECTION_NOT_FOUND', `No connection "${input.connectionId}"`);
  }
  if (connection.source === 'scim') {
    throw new AdapterError(
      'CONNECTION_NOT_FOUND',
      `"${connection.id}" is a SCIM connection; explain takes webhook connections`,
    );
  }
  const ciam = readOnly(deps.ciam);
  const prepared = prepareConnections(config, deps.sources ?? SOURCES, {
    queued: true,
    groups: createGroupResolver({ ciam, now: deps.now }),
  }).get(connection.id) as PreparedConnection;
  const target = applyTargetsOf(config).get(connection.id) as ApplyTarget;
  const context: SourceContext = { secrets: deps.secrets, fetch: deps.fetch, now: deps.now };
  const tagNames = new Map(config.connections.map(({ id }) => [connectionTag(id), id]));
  const view = (clock: Clock): ClockView => ({
    at: new Date(clock.at).toISOString(),
    connection: tagNames.get(clock.connection) ?? clock.connection,
    event: clock.event,
    ...(clock.member === undefined ? {} : { member: clock.member }),
  });

  const trace: ExplainTrace = {
    connection: {
      id: connection.id,
      source: connection.source,
      delivery: connection.delivery ?? 'sync',
      userStoreId: connection.userStoreId,
    },
    input: input.kind,
    outcome: 'ignored',
    ignored: [],
    changes: [],
    writes: 0,
  };
  const refuse = (step: string, error: unknown): ExplainTrace => {
    const { code, message, reason } = errorOf(error);
    const statusCode = isAdapterError(error) ? error.statusCode : 500;
    trace.refused = {
      step,
      code,
      message,
      statusCode,
      ...(reason === undefined ? {} : { reason }),
    };
    trace.outcome = 'refused';
    return trace;
  };

  let changes: UserChange[];
  // The webhook body as received; a plan entry has none (a filter on `payload` sees it absent).
  let payload: unknown;
  if (input.kind === 'delivery') {
    const { request } = input;
    if (input.sourceIp !== undefined) {
      const list = connection.allowedSourceIps;
      const allowed = list === undefined || compileAllowList(list).allows(input.sourceIp);
      trace.sourceIp = {
        ip: input.sourceIp,
        verdict: list === undefined ? 'no_list' : allowed ? 'allowed' : 'refused',
      };
      if (!allowed) {
        return refuse(
          'source_ip',
          new AdapterError('SOURCE_IP_NOT_ALLOWED', 'The source IP is not on the allow-list'),
        );
      }
    }
    if (request.method === 'GET' && prepared.source.handshake !== undefined) {
      trace.outcome = 'handshake';
      trace.note = 'A verification handshake: the source answers it, nothing is applied.';
      return trace;
    }
    if (request.method !== 'POST') {
      return refuse('method', new AdapterError('METHOD_NOT_ALLOWED', 'Use POST'));
    }
    try {
      await prepared.source.authenticate(request, context);
      trace.signature = { verdict: 'valid' };
    } catch (error) {
      const invalid = error instanceof SignatureError;
      trace.signature = { verdict: invalid ? 'invalid' : 'not_checked', error: errorOf(error) };
      // As the real path: nothing of an unauthenticated request is looked at any further.
      return refuse('authenticate', error);
    }
    try {
      assertJsonContentType(request);
      const text = bodyText(request.rawBody);
      try {
        payload = JSON.parse(text);
      } catch {
        throw new AdapterError('PAYLOAD_INVALID', 'The body is not valid JSON');
      }
    } catch (error) {
      return refuse('body', error);
    }
    try {
      const parsed = prepared.source.parse(payload, request);
      const outcome = await prepared.source.toChanges(parsed, request, context);
      trace.ignored.push(
        ...outcome.ignored.map(({ eventId, eventType, reason }) => ({
          eventId,
          eventType,
          reason,
        })),
      );
      changes = outcome.changes;
    } catch (error) {
      return refuse('parse', error);
    }
  } else {
    // A plan entry that also changes group memberships carries its attributes and, in
    // `memberships`, the source groups: traced as the attribute change and the membership change
    // (reconciliation applies both in one write).
    const { memberships, ...attributes } = input.change;
    changes = memberships === undefined ? [input.change] : [attributes, input.change];
  }

  // Filter and mapping through the real path's own step: every change of the request is mapped
  // before any is applied, so one bad change refuses the whole request.
  let current: UserChange | undefined;
  const kept: UserChange[] = [];
  let planned: { change: UserChange; update: PlannedUpdate }[];
  try {
    const result = await planChanges(prepared, changes, payload, {
      ignored: trace.ignored,
      changes: kept,
      onChange: (change) => {
        current = change;
      },
    });
    planned = result.planned.map((update, index) => ({
      change: kept[index] as UserChange,
      update,
    }));
  } catch (error) {
    if (current !== undefined) {
      trace.changes.push({
        eventId: current.eventId,
        eventType: current.eventType,
        occurredAt: current.occurredAt,
        subject: maskedSubject(current),
        mapping: { error: errorOf(error) },
      });
    }
    return refuse('mapping', error);
  }

  const resolver = createUserResolver({ ciam, now: deps.now });
  for (const { change, update } of planned) {
    const item: ChangeTrace = {
      eventId: change.eventId,
      eventType: change.eventType,
      occurredAt: change.occurredAt,
      subject: maskedSubject(change),
      mapping:
        update.memberships === undefined
          ? { fields: carriedFields(update).map(({ name }) => name) }
          : { memberships: update.memberships.map(({ groupId, member }) => ({ groupId, member })) },
    };
    trace.changes.push(item);
    await traceChange(item, {
      ciam,
      target,
      update,
      resolver,
      view,
      input,
      deps,
      queued: connection.delivery === 'queued',
    });
  }

  const decisions = trace.changes.map(({ decision }) => decision);
  trace.outcome = decisions.includes('write')
    ? 'would_write'
    : decisions.includes('error')
      ? 'would_fail'
      : decisions.length > 0
        ? 'would_skip'
        : 'ignored';
  if (connection.delivery === 'queued' && input.kind === 'delivery' && planned.length > 0) {
    trace.note =
      'Queued connection: the real path enqueues each change (202) and the queue function applies it; shown is what it would send if it applied now.';
  }
  return trace;
};

interface ChangeContext {
  ciam: CiamApi;
  target: ApplyTarget;
  update: PlannedUpdate;
  resolver: ReturnType<typeof createUserResolver>;
  view: (clock: Clock) => ClockView;
  input: ExplainInput;
  deps: ExplainDeps;
  /** The connection delivers through the queue. */
  queued: boolean;
}

/** Resolution, the user read, the clocks and planWrite for one change, into `item`. */
const traceChange = async (item: ChangeTrace, context: ChangeContext): Promise<void> => {
  const { ciam, target, update, resolver, view, input, deps } = context;
  const lookup = lookupOf(target.resolve, update.change as UserChange);
  item.resolve = { ...lookup };
  if (input.kind === 'snapshot' && input.planUserId !== undefined) {
    item.resolve.planUserId = input.planUserId;
  }
  let userId: string;
  try {
    userId = await resolver.resolve(target, update.change);
    item.resolve.userId = userId;
  } catch (error) {
    item.resolve.error = errorOf(error);
    item.decision = 'error';
    item.error = errorOf(error);
    return;
  }
  if (context.queued) {
    item.queue = {
      groupId: userGroupId(target.userStoreId, userId),
      deduplicationId: deduplicationId(target.id, update.change.eventId),
    };
  }
  item.readsUser = needsUserRead(target, update);
  // The user as applying reads it (CIAM masks emails and phones there), for planWrite; and with
  // `Original`, for the diff. Reads both, like every call explain makes.
  const read = async (original: boolean): Promise<CiamUser> => {
    const { User } = await ciam.describeUserById({
      UserStoreId: target.userStoreId,
      UserId: userId,
      ...(original ? { Original: true } : {}),
    });
    if (User === null || User === undefined) {
      throw new AdapterError('USER_NOT_FOUND', 'The CIAM user no longer exists');
    }
    return User;
  };
  let user: CiamUser;
  let applied: CiamUser | undefined;
  try {
    applied = item.readsUser ? await read(false) : undefined;
    user = await read(true);
  } catch (error) {
    item.decision = 'error';
    item.error = errorOf(error);
    return;
  }

  const guard = target.guard;
  const carried = carriedFields(update);
  const clocks =
    guard === undefined
      ? undefined
      : readClocks(user.CustomAttributes, guard, clockFieldsOf(update.draft));
  const changeClock = guard === undefined ? undefined : clockOf(guard, update.change);
  if (changeClock !== undefined) item.clock = view(changeClock);

  let plan: WritePlan | undefined;
  try {
    plan = planWrite(target, update, userId, applied);
    if (plan.action === 'write') assertValidUpdateUser(plan.request);
  } catch (error) {
    item.decision = 'error';
    item.error = errorOf(error);
  }
  const request = plan?.action === 'write' ? plan.request : undefined;
  const written = new Set(plan?.action === 'write' ? (plan.fields ?? []) : []);
  const skipped = new Map(
    (plan === undefined ? [] : plan.action === 'write' ? (plan.skipped ?? []) : plan.skipped).map(
      ({ field, verdict }) => [field, verdict] as const,
    ),
  );

  item.fields = carried.map(({ name, clock }): FieldTrace => {
    const verdict: FieldTrace['verdict'] = written.has(name)
      ? 'newer'
      : (skipped.get(name) ?? 'unclocked');
    const held =
      clock === undefined
        ? undefined
        : (clocks?.get(clock) ??
          (name.startsWith('group:') ? clocks?.get(MEMBERSHIP_FLOOR) : undefined));
    const ranks =
      guard === undefined || clock === undefined
        ? undefined
        : guard.authorityOf(name.startsWith('group:') ? 'UserGroup' : clock);
    let now: unknown;
    let wouldBe: unknown;
    if (name.startsWith('group:')) {
      const groupId = name.slice(6);
      now = (user.UserGroups ?? []).includes(groupId) ? 'member' : 'not a member';
      const groups = request?.UserGroup ?? user.UserGroups ?? [];
      wouldBe = groups.includes(groupId) ? 'member' : 'not a member';
    } else {
      now = userValue(user, name);
      wouldBe = skipped.has(name) || request === undefined ? now : requestValue(request, name);
    }
    const shown = (value: unknown): Masked =>
      name.startsWith('group:') ? (value as string) : maskValue(name, value);
    return {
      field: name,
      verdict,
      ...(held === undefined ? {} : { clock: view(held) }),
      ...(ranks === undefined ? {} : { authority: ranks.map((tag) => tagName(tag, deps)) }),
      now: shown(now),
      wouldBe: shown(wouldBe),
      changed: JSON.stringify(now) !== JSON.stringify(wouldBe),
    };
  });
  if (plan === undefined) return;
  if (plan.action === 'skip') {
    item.decision = 'skip';
    item.skipReason = plan.reason;
    return;
  }
  if (item.decision === 'error') return;
  item.decision = 'write';
  const prepared = await deps.prepareRequest('UpdateUser', plan.request);
  item.request = {
    action: 'UpdateUser',
    url: prepared.url,
    headers: redactHeaders(prepared.headers),
    body: prepared.body,
    bodySha256: sha256(prepared.body),
    bytes: Buffer.byteLength(prepared.body),
    masked: maskRequest(plan.request, guard?.attribute),
  };
};

const tagName = (tag: string, deps: ExplainDeps): string =>
  deps.config.connections.find(({ id }) => connectionTag(id) === tag)?.id ?? tag;
