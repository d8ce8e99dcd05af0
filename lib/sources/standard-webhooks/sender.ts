import { randomUUID } from 'node:crypto';
import type { SignDelivery } from '../shared/sender.ts';
import { signStandardWebhook } from './signature.ts';

/**
 * Svix (Clerk's sender): `svix-id`, `svix-timestamp` in seconds, and `svix-signature` over both
 * and the body. Without an id it makes a fresh one, as every Svix message has its own.
 */
export const signStandardWebhooksDelivery: SignDelivery = ({ body, secret, nowMs, eventId }) => {
  const id = eventId ?? `msg_${randomUUID().replaceAll('-', '')}`;
  const seconds = Math.floor(nowMs / 1000);
  return {
    'svix-id': id,
    'svix-timestamp': String(seconds),
    'svix-signature': signStandardWebhook(secret, id, seconds, body),
  };
};
