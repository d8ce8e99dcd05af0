import type { WebhookSourceType } from '../config/types.ts';
import { signAuth0Delivery } from './auth0/sender.ts';
import { signHmacDelivery } from './hmac/sender.ts';
import { signOktaDelivery } from './okta/sender.ts';
import type { SignDelivery } from './shared/sender.ts';
import { signStandardWebhooksDelivery } from './standard-webhooks/sender.ts';
import { signWorkosDelivery } from './workos/sender.ts';

export type { DeliveryHeaders, OutgoingDelivery, SignDelivery } from './shared/sender.ts';

/**
 * A connection's options were checked against its source's options schema when the configuration
 * loaded, so each sender may read them as its own options type.
 */
const forConnectionOptions =
  <Options>(sign: SignDelivery<Options>): SignDelivery =>
  (delivery, options) =>
    sign(delivery, options as Options | undefined);

/**
 * What each source's sender puts on a delivery, beside the registry of verifiers (`SOURCES`):
 * for `npm run demo`, `npm run events` and tests. No handler imports it.
 */
export const SENDERS: Readonly<Record<WebhookSourceType, SignDelivery>> = {
  'standard-webhooks': signStandardWebhooksDelivery,
  workos: signWorkosDelivery,
  auth0: forConnectionOptions(signAuth0Delivery),
  okta: forConnectionOptions(signOktaDelivery),
  hmac: forConnectionOptions(signHmacDelivery),
};
