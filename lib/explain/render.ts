import type { ChangeTrace, ClockView, ExplainTrace, FieldTrace } from './explain.ts';
import type { Masked } from './mask.ts';

/**
 * The trace as the `EXPLAIN` line carries it: everything but the request body's bytes, which hold
 * personal data; their SHA-256, length and a masked copy stand in for them.
 */
export const traceJson = (trace: ExplainTrace): Record<string, unknown> => ({
  ...trace,
  changes: trace.changes.map(({ request, ...rest }) => {
    if (request === undefined) return rest;
    const { body: _body, ...shown } = request;
    return { ...rest, request: shown };
  }),
});

const shownValue = (value: Masked): string =>
  value === null ? '(none)' : Array.isArray(value) ? `[${value.join(', ')}]` : value;

const clockText = (clock: ClockView): string =>
  `${clock.at} by ${clock.connection} (event ${clock.event}${clock.member === undefined ? '' : clock.member ? ', member' : ', removed'})`;

const VERDICTS: Record<FieldTrace['verdict'], string> = {
  newer: 'newer: written',
  stale: 'stale: CIAM holds a newer change, skipped',
  duplicate: 'duplicate: CIAM holds this very change, skipped',
  not_authoritative: 'not authoritative: skipped',
  unclocked: 'not clocked: written as carried',
};

const fieldLines = (field: FieldTrace): string[] => {
  const lines = [
    `    ${field.field}: ${VERDICTS[field.verdict]}`,
    `      CIAM now ${shownValue(field.now)} → would be ${shownValue(field.wouldBe)}${field.changed ? '' : ' (unchanged)'}`,
  ];
  if (field.clock !== undefined) lines.push(`      field clock ${clockText(field.clock)}`);
  if (field.authority !== undefined) {
    lines.push(`      authority, highest first: ${field.authority.join(', ')}`);
  }
  return lines;
};

const changeLines = (change: ChangeTrace, showBody: boolean): string[] => {
  const subject = Object.entries(change.subject)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const lines = [
    `change     ${change.eventId} ${change.eventType} at ${change.occurredAt}${subject === '' ? '' : ` (${subject})`}`,
  ];
  const { mapping } = change;
  if ('error' in mapping) {
    lines.push(`  mapping  refused: ${mapping.error.code} ${mapping.error.message}`);
    return lines;
  }
  lines.push(
    'fields' in mapping
      ? `  mapping  sets ${mapping.fields.join(', ') || '(nothing)'}`
      : `  mapping  memberships ${mapping.memberships.map(({ groupId, member }) => `${member ? '+' : '-'}${groupId}`).join(', ')}`,
  );
  const { resolve } = change;
  if (resolve !== undefined) {
    const found =
      resolve.userId !== undefined
        ? `→ ${resolve.userId}`
        : `→ ${resolve.error?.code ?? 'not found'}: ${resolve.error?.message ?? ''}`;
    lines.push(`  resolve  by ${resolve.by} = ${resolve.value} ${found}`);
    if (resolve.planUserId !== undefined && resolve.planUserId !== resolve.userId) {
      lines.push(`           the plan entry names ${resolve.planUserId}`);
    }
  }
  if (change.queue !== undefined) {
    lines.push(
      `  queue    the real path enqueues it: FIFO group ${change.queue.groupId}, deduplication id ${change.queue.deduplicationId.slice(0, 16)}…`,
    );
  }
  if (change.readsUser !== undefined) {
    lines.push(
      `  read     DescribeUserById ${change.readsUser ? '(applying reads it too)' : '(applying would not; read for the diff)'}`,
    );
  }
  if (change.clock !== undefined) lines.push(`  clock    this change: ${clockText(change.clock)}`);
  if (change.fields !== undefined) {
    lines.push('  fields');
    for (const field of change.fields) lines.push(...fieldLines(field));
  }
  if (change.decision === 'skip') {
    lines.push(`  decision skip, nothing sent: ${change.skipReason}`);
  } else if (change.decision === 'error') {
    lines.push(`  decision fails: ${change.error?.code} ${change.error?.message}`);
  } else if (change.decision === 'write') {
    lines.push('  decision write: one UpdateUser');
  }
  const { request } = change;
  if (request !== undefined) {
    lines.push(`  request  POST ${request.url} ${request.action}`);
    for (const [name, value] of Object.entries(request.headers)) {
      lines.push(`    ${name}: ${value}`);
    }
    if (showBody) {
      lines.push(`  body     (exact, ${request.bytes} bytes, sha256 ${request.bodySha256})`);
      lines.push(request.body);
    } else {
      lines.push(`  body     masked (${request.bytes} bytes, sha256 ${request.bodySha256})`);
      lines.push(JSON.stringify(request.masked));
    }
  }
  return lines;
};

const OUTCOMES: Record<ExplainTrace['outcome'], string> = {
  would_write: 'would write',
  would_skip: 'would write nothing',
  would_fail: 'would fail: see the change',
  ignored: 'ignored: nothing to apply',
  refused: 'refused',
  handshake: 'handshake',
};

/**
 * The human-readable trace, then `EXPLAIN {json}` as its last line. `showBody`: print the exact
 * request body (personal data) rather than its masked copy.
 */
export const renderTrace = (trace: ExplainTrace, options: { showBody: boolean }): string[] => {
  const { connection } = trace;
  const lines = [
    `connection ${connection.id} (${connection.source}, ${connection.delivery}, user store ${connection.userStoreId}): ${trace.input === 'delivery' ? 'a delivery' : 'a reconciliation plan entry'}`,
  ];
  if (trace.sourceIp !== undefined) {
    const verdict = trace.sourceIp.verdict === 'no_list' ? 'no allow-list' : trace.sourceIp.verdict;
    lines.push(`source IP  ${trace.sourceIp.ip}: ${verdict}`);
  }
  if (trace.signature !== undefined) {
    const { verdict, error } = trace.signature;
    lines.push(
      verdict === 'valid'
        ? 'signature  valid'
        : `signature  ${verdict === 'invalid' ? 'invalid' : 'not checked'}: ${error?.code} ${error?.message}${error?.reason === undefined ? '' : ` (${error.reason})`}; the real path stops here`,
    );
  } else if (trace.input === 'snapshot') {
    lines.push('signature  none: a snapshot from the source API, not a delivery');
  }
  for (const change of trace.changes) lines.push(...changeLines(change, options.showBody));
  for (const { eventId, eventType, reason } of trace.ignored) {
    lines.push(`ignored    ${eventId} ${eventType}: ${reason}`);
  }
  if (trace.refused !== undefined) {
    const { step, statusCode, code, message } = trace.refused;
    lines.push(`refused    at ${step}: ${statusCode} ${code} ${message}`);
  }
  if (trace.note !== undefined) lines.push(`note       ${trace.note}`);
  lines.push(`outcome    ${OUTCOMES[trace.outcome]}; explain wrote nothing`);
  lines.push(`EXPLAIN ${JSON.stringify(traceJson(trace))}`);
  return lines;
};
