// `npm run demo -- <clerk|workos|auth0|hmac>`: sends the matching events/<name>.user-updated.json
// to the local adapter (`npm start`), signed now with the demo secret, and prints the answer.
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

const name = process.argv[2] ?? '';
const signer = sign[name];
if (signer === undefined) {
  console.error(`usage: npm run demo -- <${Object.keys(sign).join('|')}>`);
  process.exit(2);
}
const body = JSON.parse(readFileSync(`events/${name}.user-updated.json`, 'utf8')).body as string;
const url = `http://127.0.0.1:${process.env.PORT ?? 3000}/webhooks/${name}`;
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...signer(body) },
  body,
});
console.log(`POST ${url} → ${res.status}`);
console.log(await res.text());
