import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { UserChange } from '../change.ts';
import { AdapterError } from '../errors.ts';
import { type InboundRequest, toInboundRequest } from '../http/request.ts';
import { isRecord } from '../is-record.ts';

const invalid = (message: string) => new AdapterError('REQUEST_INVALID', message);

/** A delivery to explain: the request as the webhook function decodes it, and its source IP. */
export interface DeliveryInput {
  request: InboundRequest;
  sourceIp?: string;
}

/**
 * A file of `events/` (or `.tmp/events/`): an API Gateway HTTP API (payload 2.0) event, decoded
 * as the webhook function decodes it. An SQS event is refused: it carries an already accepted
 * change, whose delivery is what explain looks at.
 */
export const deliveryFromEvent = (text: string): DeliveryInput => {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw invalid('The event file is not JSON');
  }
  if (isRecord(event) && Array.isArray(event.Records)) {
    throw invalid('An SQS event: explain the webhook delivery that queued its change instead');
  }
  if (!isRecord(event) || !isRecord(event.requestContext) || !isRecord(event.requestContext.http)) {
    throw invalid('Not an API Gateway HTTP API event (no requestContext.http)');
  }
  const apiEvent = event as unknown as APIGatewayProxyEventV2;
  const sourceIp = apiEvent.requestContext.http.sourceIp;
  return {
    request: toInboundRequest(apiEvent),
    ...(typeof sourceIp === 'string' && sourceIp !== '' ? { sourceIp } : {}),
  };
};

/** A raw delivery: the body's bytes and `name: value` headers, posted to the connection. */
export const deliveryFromRaw = (
  connectionId: string,
  body: Buffer,
  headerLines: readonly string[],
): DeliveryInput => {
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid(`A header must read "name: value", not "${line}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // Joined as API Gateway joins repeated headers.
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return {
    request: {
      method: 'POST',
      path: `/webhooks/${connectionId}`,
      headers,
      query: {},
      rawBody: body,
    },
  };
};

/**
 * One entry of a reconciliation plan file: `{ entries: [...] }` or a bare array, each entry
 * `{ userId, externalId, change }` with `change` the full snapshot UserChange. Found by the CIAM
 * user id or the source's external id.
 */
export interface PlanEntry {
  userId?: string;
  externalId?: string;
  change: UserChange;
}

const isChange = (value: unknown): value is UserChange =>
  isRecord(value) &&
  typeof value.connectionId === 'string' &&
  typeof value.eventId === 'string' &&
  typeof value.eventType === 'string' &&
  typeof value.occurredAt === 'string' &&
  isRecord(value.subject) &&
  isRecord(value.attributes);

export const planEntry = (text: string, user: string): PlanEntry => {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    throw invalid('The plan file is not JSON');
  }
  const entries = Array.isArray(plan) ? plan : isRecord(plan) ? plan.entries : undefined;
  if (!Array.isArray(entries)) throw invalid('The plan has no entries array');
  const matches = entries.filter(
    (entry): entry is Record<string, unknown> =>
      isRecord(entry) &&
      (entry.userId === user ||
        entry.externalId === user ||
        (isChange(entry.change) && entry.change.subject.externalId === user)),
  );
  const [entry, ...more] = matches;
  if (entry === undefined) throw invalid(`No plan entry for user "${user}"`);
  if (more.length > 0) throw invalid(`${matches.length} plan entries match user "${user}"`);
  if (!isChange(entry.change)) throw invalid(`The plan entry for "${user}" has no change`);
  return {
    change: entry.change,
    ...(typeof entry.userId === 'string' ? { userId: entry.userId } : {}),
    ...(typeof entry.externalId === 'string' ? { externalId: entry.externalId } : {}),
  };
};
