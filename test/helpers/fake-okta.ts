import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real local Okta org for the Users API (`GET /api/v1/users/:id`), so the Okta source is tested
 * through the global fetch, with real sockets, timeouts and status codes.
 */

export type FakeOktaBehaviour = 'ok' | 'slow' | 'not-json' | 401 | 403 | 404 | 429 | 500 | 503;

export interface RecordedOktaRequest {
  method: string;
  /** As received, still URL-encoded. */
  path: string;
  /** Decoded user id, when the path is a Users API path. */
  userId?: string;
  authorization?: string;
  accept?: string;
}

export interface FakeOkta {
  /** `http://127.0.0.1:<port>`, usable as the connection's orgUrl. */
  orgUrl: string;
  users: Map<string, OktaUserFixture>;
  requests: RecordedOktaRequest[];
  /** Behaviour for one user id, or for every request when `userId` is left out. */
  behave(behaviour: FakeOktaBehaviour, userId?: string): void;
  close(): Promise<void>;
}

export interface OktaUserFixture {
  id: string;
  status: string;
  profile: Record<string, unknown>;
  [key: string]: unknown;
}

/** The shape Okta returns, with the profile fields the adapter maps. */
export const oktaUser = (id: string, profile: Record<string, unknown> = {}): OktaUserFixture => ({
  id,
  status: 'ACTIVE',
  created: '2024-01-01T00:00:00.000Z',
  activated: '2024-01-01T00:00:01.000Z',
  statusChanged: '2024-01-01T00:00:01.000Z',
  lastLogin: null,
  lastUpdated: '2025-01-01T00:00:00.000Z',
  passwordChanged: null,
  type: { id: 'oty2demoType' },
  profile: {
    login: `${id}@example.com`,
    email: `${id}@example.com`,
    firstName: 'Test',
    lastName: 'User',
    mobilePhone: null,
    secondEmail: null,
    ...profile,
  },
  credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
  _links: { self: { href: `https://demo.okta.com/api/v1/users/${id}` } },
});

const USERS_PATH = /^\/api\/v1\/users\/([^/?]+)$/;

const sendJson = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};

const oktaError = (code: string, summary: string) => ({
  errorCode: code,
  errorSummary: summary,
  errorLink: code,
  errorId: 'oae2demoError',
  errorCauses: [],
});

export const startFakeOkta = async (options: {
  apiToken: string;
  users?: readonly OktaUserFixture[];
}): Promise<FakeOkta> => {
  const users = new Map((options.users ?? []).map((user) => [user.id, user]));
  const requests: RecordedOktaRequest[] = [];
  const behaviours = new Map<string, FakeOktaBehaviour>();
  let defaultBehaviour: FakeOktaBehaviour = 'ok';
  const held = new Set<ServerResponse>();

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = request.url ?? '/';
    const match = USERS_PATH.exec(path);
    const userId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    requests.push({
      method: request.method ?? '',
      path,
      ...(userId === undefined ? {} : { userId }),
      ...(request.headers.authorization === undefined
        ? {}
        : { authorization: request.headers.authorization }),
      ...(request.headers.accept === undefined ? {} : { accept: request.headers.accept }),
    });
    if (request.method !== 'GET' || userId === undefined) {
      sendJson(
        response,
        404,
        oktaError('E0000022', 'The endpoint does not support the provided HTTP method'),
      );
      return;
    }
    if (request.headers.authorization !== `SSWS ${options.apiToken}`) {
      sendJson(response, 401, oktaError('E0000011', 'Invalid token provided'));
      return;
    }
    const behaviour = behaviours.get(userId) ?? defaultBehaviour;
    if (behaviour === 'slow') {
      // Never answered until close(): the client's timeout is what ends the request.
      held.add(response);
      response.on('close', () => held.delete(response));
      return;
    }
    if (behaviour === 'not-json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('<html>maintenance</html>');
      return;
    }
    if (behaviour === 429) {
      response.setHeader('x-rate-limit-reset', String(Math.floor(Date.now() / 1000) + 60));
      sendJson(
        response,
        429,
        oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'),
      );
      return;
    }
    if (behaviour !== 'ok') {
      sendJson(response, behaviour, oktaError('E0000009', `Fake Okta answered ${behaviour}`));
      return;
    }
    const user = users.get(userId);
    if (user === undefined) {
      sendJson(
        response,
        404,
        oktaError('E0000007', `Not found: Resource not found: ${userId} (User)`),
      );
      return;
    }
    sendJson(response, 200, user);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    orgUrl: `http://127.0.0.1:${port}`,
    users,
    requests,
    behave: (behaviour, userId) => {
      if (userId === undefined) defaultBehaviour = behaviour;
      else behaviours.set(userId, behaviour);
    },
    close: async () => {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error === undefined ? resolve() : reject(error))),
      );
    },
  };
};
