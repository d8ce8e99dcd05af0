import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { jsonResponse } from '../lib/http/response.ts';
import { summarizeDeadLetter } from '../lib/queue/dead-letters.ts';
import type { LocalFifoQueue } from './fifo-queue.ts';
import type { LocalRoute } from './http-api.ts';

export interface QueueAdminOptions {
  queue: LocalFifoQueue;
  deadLetterQueue: LocalFifoQueue;
}

const json = (statusCode: number, body: unknown) => jsonResponse(statusCode, body);

const isTrue = (value: string | undefined) => value === '1' || value === 'true';

/**
 * Operator endpoints for the local queue of `npm start`, what `npm run dlq -- --local` talks to:
 * the same listing as on AWS (reason attributes, no bodies unless `?showBody=1`) and a redrive
 * that moves every dead letter back, like StartMessageMoveTask.
 */
export const queueAdminRoutes = ({ queue, deadLetterQueue }: QueueAdminOptions): LocalRoute[] => [
  {
    method: ['GET'],
    path: '/__queue/stats',
    functionName: 'queue-admin',
    handler: async () =>
      json(200, {
        queue: { name: queue.name, ...queue.stats() },
        deadLetterQueue: { name: deadLetterQueue.name, ...deadLetterQueue.stats() },
      }),
  },
  {
    method: ['GET'],
    path: '/__queue/dlq',
    functionName: 'queue-admin',
    handler: async (event: APIGatewayProxyEventV2) => {
      const showBody = isTrue(event.queryStringParameters?.showBody);
      const deadLetters = deadLetterQueue.peek().map((message) =>
        summarizeDeadLetter(
          {
            messageId: message.messageId,
            body: message.body,
            groupId: message.groupId,
            sentTimestamp: message.sentTimestamp,
            receiveCount: message.receiveCount,
            sourceQueue: message.deadLetterSourceQueue,
            attributes: message.attributes,
          },
          { showBody },
        ),
      );
      return json(200, { queue: deadLetterQueue.name, deadLetters });
    },
  },
  {
    method: ['POST'],
    path: '/__queue/dlq/redrive',
    functionName: 'queue-admin',
    handler: async () =>
      json(200, {
        moved: deadLetterQueue.moveAllTo(queue),
        from: deadLetterQueue.name,
        to: queue.name,
      }),
  },
];
