// `npm run demo -- <clerk|clerk-queued|workos|auth0|hmac>`: sends the matching
// events/<source>.user-updated.json to the local adapter (`npm start`) as a new event (fresh id,
// stamped now, so the stale-event guard applies it however often you run it), signed with the
// demo secret, and prints the answer.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signHmac } from '../lib/sources/hmac/signature.ts';
import { signStandardWebhook } from '../lib/sources/standard-webhooks/signature.ts';
import { signWorkos } from '../lib/sources/workos/signature.ts';

const secrets = JSON.parse(readFileSync('config/local-secrets.json', 'utf8'));
const secret = (name: string, key: string): string => secrets[`ciam-webhook-adapter/${name}`][key];

const sign: Record<string, (body: string) => Record<string, string>> = {
  clerk: (body) => {
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    return {
      'svix-id': id,
      'svix-timestamp': String(ts),
      'svix-signature': signStandardWebhook(secret('clerk', 'signingSecret'), id, ts, body),
    };
  },
  workos: (body) => ({
    'workos-signature': signWorkos(secret('workos', 'signingSecret'), Date.now(), body),
  }),
  auth0: () => ({ authorization: `Bearer ${secret('auth0', 'token')}` }),
  hmac: (body) => ({
    'x-event-id': `evt_${randomUUID()}`,
    'x-hub-signature-256': signHmac(secret('hmac', 'secret'), body, {
      prefix: 'sha256=',
      encoding: 'hex',
    }),
  }),
};

sign['clerk-queued'] = sign.clerk as (body: string) => Record<string, string>;

interface SampleEvent {
  id?: string;
  timestamp?: number;
  time?: string;
  created_at?: string;
  data: { updated_at?: number | string; object?: { updated_at?: string } };
}

/** A new occurrence of the sample event: its own id, happened now. */
const restamp: Record<string, (event: SampleEvent) => void> = {
  clerk: (event) => {
    event.timestamp = Date.now();
    event.data.updated_at = Date.now();
  },
  workos: (event) => {
    event.id = `event_${randomUUID().replaceAll('-', '')}`;
    event.created_at = new Date().toISOString();
    event.data.updated_at = new Date().toISOString();
  },
  auth0: (event) => {
    event.id = `evt_${randomUUID().replaceAll('-', '')}`;
    event.time = new Date().toISOString();
    if (event.data.object !== undefined) event.data.object.updated_at = new Date().toISOString();
  },
};

const name = process.argv[2] ?? '';
const signer = sign[name];
if (signer === undefined) {
  console.error(`usage: npm run demo -- <${Object.keys(sign).join('|')}>`);
  process.exit(2);
}
const source = name === 'clerk-queued' ? 'clerk' : name;
const sample = JSON.parse(readFileSync(`events/${source}.user-updated.json`, 'utf8'))
  .body as string;
const event = JSON.parse(sample) as SampleEvent;
restamp[source]?.(event);
const body = JSON.stringify(event);
const url = `http://127.0.0.1:${process.env.PORT ?? 3000}/webhooks/${name}`;
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...signer(body) },
  body,
});
console.log(`POST ${url} → ${res.status}`);
console.log(await res.text());
