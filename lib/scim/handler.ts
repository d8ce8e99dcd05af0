// The SCIM function's middy chain (RFC 7644 over HTTP API routes
// `ANY /scim/v2/{connectionId}/{proxy+}`). Side-effect free: `handlers/scim.ts` builds it once
// from the runtime; tests build it from fakes.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AdapterError, SignatureError } from '../errors.ts';
import {
  connectionMiddleware,
  errorMiddleware,
  type HttpContext,
  type HttpMiddleware,
} from '../http/middleware.ts';
import { bodyText, toInboundRequest } from '../http/request.ts';
import { sourceIpMiddleware } from '../http/source-ip.ts';
import { logFailure } from '../log/failures.ts';
import type { RecordOutcome } from '../metrics.ts';
import type { SecretSource } from '../secrets/types.ts';
import { matchesStaticSecret } from '../sources/shared/crypto.ts';
import { discovery, serviceProviderConfig } from './discovery.ts';
import { scimErrorResponse, scimResponse } from './errors.ts';
import type { ScimGroupService } from './groups.ts';
import { type Projection, projectionOf } from './projection.ts';
import type { ListQuery, ScimConnection, ScimService } from './service.ts';

export interface ScimDeps {
  connections: ReadonlyMap<string, ScimConnection>;
  service: ScimService;
  groups: ScimGroupService;
  secrets: SecretSource;
  logger: Logger;
  recordOutcome: RecordOutcome;
}

type ScimContext = HttpContext<ScimConnection>;

/** Leaves time to answer before API Gateway's 30 s limit cuts the connection. */
const TIMEOUT_MARGIN_MS = 750;

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

const connectionOf = (context: ScimContext): ScimConnection => {
  if (context.connection === undefined) {
    throw new AdapterError('INTERNAL', 'SCIM chain is incomplete');
  }
  return context.connection;
};

/** Bearer token, compared in constant time against one or two (rotation) configured tokens. */
const authenticateMiddleware = (deps: ScimDeps): HttpMiddleware<ScimContext> => ({
  name: 'scim-authenticate',
  before: async function scimAuthenticateBefore(request) {
    const scim = connectionOf(request.context);
    const header = request.event.headers?.authorization;
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const challenge = { headers: { 'www-authenticate': 'Bearer realm="scim"' } };
    if (token === undefined) throw new SignatureError('Missing bearer token', challenge);
    if (!(await matchesStaticSecret(token, scim.connection.secrets.signing, deps.secrets))) {
      throw new SignatureError('The bearer token is not valid', challenge);
    }
  },
});

const readJson = (event: APIGatewayProxyEventV2): unknown => {
  const text = bodyText(toInboundRequest(event).rawBody);
  try {
    return JSON.parse(text);
  } catch {
    throw new AdapterError('SCIM_INVALID_SYNTAX', 'The body is not valid JSON');
  }
};

const notAllowed = (allow: string) =>
  new AdapterError('METHOD_NOT_ALLOWED', `Use ${allow}`, { headers: { allow } });

const baseUrl = (event: APIGatewayProxyEventV2, connectionId: string): string => {
  const host = event.headers?.host ?? event.requestContext.domainName;
  const proto = event.headers?.['x-forwarded-proto'] ?? 'https';
  return `${proto}://${host}/scim/v2/${connectionId}`;
};

/** Whether a projection keeps `members`: reading them costs a CIAM call per 100 members. */
const keepsMembers = (shape: Projection): boolean =>
  'members' in shape({ schemas: [], id: 'x', displayName: 'x', members: [{ value: 'x' }] });

/** `Groups` and `Groups/{id}`: CIAM's groups, their members changed one user at a time. */
const routeGroups = async (
  groups: ScimGroupService,
  scim: ScimConnection,
  method: string,
  id: string | undefined,
  event: APIGatewayProxyEventV2,
  base: string,
  signal: AbortSignal,
) => {
  const query = event.queryStringParameters ?? {};
  const shape = projectionOf(query);
  const options = { signal, members: keepsMembers(shape) };
  if (id === undefined) {
    if (method === 'GET') {
      const list = await groups.list(scim, listQueryOf(query), base, options);
      return scimResponse(200, { ...list, Resources: list.Resources.map(shape) });
    }
    if (method === 'POST') {
      return scimResponse(201, shape(await groups.create(scim, readJson(event), base, options)));
    }
    throw notAllowed('GET, POST');
  }
  switch (method) {
    case 'GET':
      return scimResponse(200, shape(await groups.get(scim, id, base, options)));
    case 'PATCH':
      await groups.patch(scim, id, readJson(event), { signal });
      return scimResponse(204, undefined);
    case 'PUT':
      return scimResponse(200, shape(await groups.put(scim, id, readJson(event), base, options)));
    case 'DELETE':
      await groups.remove(scim, id, { signal });
      return scimResponse(204, undefined);
    default:
      throw notAllowed('GET, PATCH, PUT, DELETE');
  }
};

/** The list parameters of RFC 7644 §3.4.2, as given (the services check them). */
const listQueryOf = (query: Record<string, string | undefined>): ListQuery => ({
  ...(query.filter === undefined ? {} : { filter: query.filter }),
  ...(query.startIndex === undefined ? {} : { startIndex: query.startIndex }),
  ...(query.count === undefined ? {} : { count: query.count }),
});

/** `Users`, `Users/{id}`, `Schemas/{id}`… (ids may hold `/`-free URNs). */
const route = async (
  service: ScimService,
  groups: ScimGroupService,
  scim: ScimConnection,
  event: APIGatewayProxyEventV2,
  signal: AbortSignal,
) => {
  const method = event.requestContext.http.method.toUpperCase();
  const proxy = (event.pathParameters?.proxy ?? '').replace(/\/+$/, '');
  const [resource = '', id, ...extra] = proxy.split('/');
  const options = { signal };
  const base = baseUrl(event, scim.connection.id);
  if (extra.length > 0 || id === '') {
    throw new AdapterError('SCIM_ENDPOINT_NOT_FOUND', 'No such SCIM endpoint');
  }
  switch (resource.toLowerCase()) {
    case 'users': {
      const query = event.queryStringParameters ?? {};
      // `attributes` / `excludedAttributes` are checked before anything is done.
      const shape = projectionOf(query);
      if (id === undefined) {
        if (method === 'GET') {
          const list = await service.list(scim, listQueryOf(query), base, options);
          return scimResponse(200, { ...list, Resources: list.Resources.map(shape) });
        }
        if (method === 'POST') {
          return scimResponse(
            201,
            shape(await service.create(scim, readJson(event), base, options)),
          );
        }
        throw notAllowed('GET, POST');
      }
      switch (method) {
        case 'GET':
          return scimResponse(200, shape(await service.get(scim, id, base, options)));
        case 'PATCH':
          return scimResponse(
            200,
            shape(await service.patch(scim, id, readJson(event), base, options)),
          );
        case 'PUT':
          return scimResponse(
            200,
            shape(await service.put(scim, id, readJson(event), base, options)),
          );
        case 'DELETE':
          await service.remove(scim, id, options);
          return scimResponse(204, undefined);
        default:
          throw notAllowed('GET, PATCH, PUT, DELETE');
      }
    }
    case 'groups':
      return routeGroups(groups, scim, method, id, event, base, signal);
    case 'serviceproviderconfig':
      if (id !== undefined) break;
      if (method !== 'GET') throw notAllowed('GET');
      return scimResponse(200, serviceProviderConfig());
    case 'resourcetypes':
    case 'schemas': {
      if (method !== 'GET') throw notAllowed('GET');
      const kind = resource.toLowerCase() === 'schemas' ? 'Schemas' : 'ResourceTypes';
      const found = discovery(kind, id === undefined ? undefined : decodeURIComponent(id));
      if (found === undefined) break;
      return scimResponse(200, found);
    }
  }
  throw new AdapterError('SCIM_ENDPOINT_NOT_FOUND', 'No such SCIM endpoint');
};

export const createHandler = (deps: ScimDeps) =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, ScimContext>({
    timeoutEarlyInMillis: TIMEOUT_MARGIN_MS,
    timeoutEarlyResponse: () => {
      throw new AdapterError('DEADLINE_EXCEEDED', 'Ran out of time answering');
    },
  })
    .use(httpHeaderNormalizer())
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(
      connectionMiddleware<ScimContext>(deps.connections, (_scim, id) =>
        deps.logger.appendKeys({ connectionId: id, source: 'scim' }),
      ),
    )
    .use(
      sourceIpMiddleware<ScimContext>(
        deps.connections,
        (scim) => scim.connection.allowedSourceIps,
        (sourceIp) => deps.logger.appendKeys({ sourceIp }),
      ),
    )
    .use(authenticateMiddleware(deps))
    .use(
      errorMiddleware<ScimContext>(scimErrorResponse, (error, request) => {
        deps.recordOutcome(request.context.connection?.connection.id ?? 'unknown', error.code, 1);
        logFailure(deps.logger, error.statusCode >= 500 ? 'scim failed' : 'scim refused', error);
      }),
    )
    .handler(async (event, context, { signal }) => {
      const scim = connectionOf(context);
      const response = await route(deps.service, deps.groups, scim, event, signal);
      deps.recordOutcome(scim.connection.id, `scim_${response.statusCode}`, 1);
      deps.logger.info('scim answered', {
        method: event.requestContext.http.method,
        statusCode: response.statusCode,
      });
      return response;
    });
