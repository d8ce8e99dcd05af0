/**
 * What a SCIM PATCH adds over the two CIAM calls it needs (DescribeUserById, UpdateUser): the
 * SCIM function's chain invoked in-process with an HTTP API event, against the emulator, and
 * the same two calls made bare with the same CIAM client, interleaved. Goal: median added ≤ 5 ms.
 * Run with `npm run bench:scim`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startEmulator } from '../emulator/server.ts';
import { createRuntime } from '../lib/runtime/index.ts';
import { scimDeps } from '../lib/runtime/scim.ts';
import { createHandler } from '../lib/scim/handler.ts';

const WARMUP = 50;
const ROUNDS = 400;
const USER_ID = 'demo-user-1';
const STORE = 'local-store';

const emulator = await startEmulator({ port: 0, rateLimit: Number.POSITIVE_INFINITY });
const runtime = createRuntime(
  {
    ADAPTER_CONFIG: 'config/local.json',
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator.url,
    CIAM_RATE_LIMIT_PER_SECOND: '1000000',
  },
  { logger: new Logger({ logLevel: 'SILENT' }), recordOutcome: () => {} },
);
const handler = createHandler(scimDeps(runtime));

const context = {
  functionName: 'scim',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const patchEvent = (round: number): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'ANY /scim/v2/{connectionId}/{proxy+}',
    rawPath: `/scim/v2/scim/Users/${USER_ID}`,
    rawQueryString: '',
    headers: {
      authorization: 'Bearer demo-scim-token',
      'content-type': 'application/scim+json',
      host: '127.0.0.1',
    },
    pathParameters: { connectionId: 'scim', proxy: `Users/${USER_ID}` },
    requestContext: {
      http: { method: 'PATCH', path: `/scim/v2/scim/Users/${USER_ID}` },
      domainName: '127.0.0.1',
      requestId: `bench-${round}`,
    },
    isBase64Encoded: false,
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'Replace', path: 'displayName', value: `Bench ${round}` },
        { op: 'Add', path: 'emails[type eq "work"].value', value: `alice.${round}@example.com` },
        { op: 'Replace', path: 'active', value: 'True' },
      ],
    }),
  }) as unknown as APIGatewayProxyEventV2;

const scimPatch = async (round: number) => {
  const response = (await handler(patchEvent(round), context)) as { statusCode: number };
  if (response.statusCode !== 200) throw new Error(`PATCH answered ${response.statusCode}`);
};

const bareCalls = async (round: number) => {
  await runtime.tenants
    .byId('default')
    .ciam.describeUserById({ UserStoreId: STORE, UserId: USER_ID, Original: true });
  await runtime.tenants.byId('default').ciam.updateUser({
    UserStoreId: STORE,
    UserId: USER_ID,
    Nickname: `Bare ${round}`,
    Email: `alice.bare.${round}@example.com`,
  });
};

const timed = async (task: () => Promise<void>): Promise<number> => {
  const start = process.hrtime.bigint();
  await task();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

for (let round = 0; round < WARMUP; round++) {
  await scimPatch(round);
  await bareCalls(round);
}
const scim: number[] = [];
const bare: number[] = [];
const added: number[] = [];
for (let round = WARMUP; round < WARMUP + ROUNDS; round++) {
  // Interleaved pairs, so drift (GC, the emulator's store) hits both alike.
  const withScim = await timed(() => scimPatch(round));
  const withoutScim = await timed(() => bareCalls(round));
  scim.push(withScim);
  bare.push(withoutScim);
  added.push(withScim - withoutScim);
}
await emulator.close();

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
console.log(`SCIM PATCH vs its two CIAM calls (DescribeUserById + UpdateUser), ${ROUNDS} rounds`);
console.log(
  `  PATCH through the SCIM function: median ${fmt(median(scim))}, p95 ${fmt(percentile(scim, 95))}`,
);
console.log(
  `  the two calls alone:             median ${fmt(median(bare))}, p95 ${fmt(percentile(bare, 95))}`,
);
console.log(
  `  added by the function:           median ${fmt(median(added))}, p95 ${fmt(percentile(added, 95))} (goal ≤ 5 ms median)`,
);
