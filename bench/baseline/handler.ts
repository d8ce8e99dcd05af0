// The baseline of `npm run bench` (dev only, never shipped): the Clerk user.updated handler a
// competent developer writes without this project, with middy, its JSON body parser, validator and
// Secrets Manager middlewares and the official Tencent Cloud SDK's CommonClient calling UpdateUser.
// Bundled with the same esbuild settings as the adapter (bench/build.ts).
import { Agent } from 'node:http';
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import secretsManager from '@middy/secrets-manager';
import validator from '@middy/validator';
import { transpileSchema } from '@middy/validator/transpile';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';

interface CiamCredentials {
  SecretId: string;
  SecretKey: string;
}

interface ClerkEvent {
  type: string;
  data: {
    id: string;
    external_id?: string;
    first_name?: string;
    last_name?: string;
  };
}

const eventSchema = {
  type: 'object',
  required: ['body'],
  properties: {
    body: {
      type: 'object',
      required: ['type', 'data'],
      properties: {
        type: { type: 'string' },
        data: {
          type: 'object',
          required: ['id'],
          properties: {
            id: { type: 'string' },
            external_id: { type: 'string' },
            first_name: { type: ['string', 'null'] },
            last_name: { type: ['string', 'null'] },
          },
        },
      },
    },
  },
};

// Bench plumbing only: the SDK derives the signing service from the endpoint's first label, so it
// must talk to ciam.tencentcloudapi.com; BENCH_CIAM_PORT points that name at the local emulator.
const benchPort = process.env.BENCH_CIAM_PORT;
const loopback =
  benchPort === undefined
    ? undefined
    : new Agent({
        keepAlive: true,
        lookup: ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
          o?.all
            ? cb(null, [{ address: '127.0.0.1', family: 4 }])
            : cb(null, '127.0.0.1', 4)) as never,
      });

let client: CommonClient | undefined;
const clientFor = (credentials: CiamCredentials): CommonClient => {
  client ??= new CommonClient(
    benchPort === undefined ? 'ciam.tencentcloudapi.com' : `ciam.tencentcloudapi.com:${benchPort}`,
    '2022-03-31',
    {
      credential: { secretId: credentials.SecretId, secretKey: credentials.SecretKey },
      region: 'ap-singapore',
      profile: {
        httpProfile:
          loopback === undefined ? {} : { protocol: 'http://', agent: loopback, reqTimeout: 10 },
      },
    },
  );
  return client;
};

type Event = Omit<APIGatewayProxyEventV2, 'body'> & { body: ClerkEvent };

const update = async (
  event: Event,
  context: Context & { ciam?: CiamCredentials },
): Promise<APIGatewayProxyResultV2> => {
  const { type, data } = event.body;
  if (type !== 'user.updated' || data.external_id === undefined) return { statusCode: 204 };
  await clientFor(context.ciam as CiamCredentials).request('UpdateUser', {
    UserStoreId: process.env.USER_STORE_ID ?? 'local-store',
    UserId: data.external_id,
    Nickname: [data.first_name, data.last_name].filter(Boolean).join(' '),
  });
  return { statusCode: 204 };
};

export const handler = middy<Event, APIGatewayProxyResultV2>()
  .use(httpJsonBodyParser())
  .use(validator({ eventSchema: transpileSchema(eventSchema) }))
  .use(
    secretsManager({
      fetchData: { ciam: 'ciam-webhook-adapter/ciam-credentials' },
      setToContext: true,
      cacheExpiry: 5 * 60 * 1000,
    }),
  )
  .handler(update as never);
