/**
 * Signatures per second: our signTc3 against the official SDK's Sign.sign3, on the same inputs,
 * in the same process, with interleaved rounds. Goal: ours at least 2x the SDK.
 * Run with `npm run bench:sign`.
 */
import { createRequire } from 'node:module';
import type SdkSign from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import { createTc3KeyCache, signTc3 } from '../lib/tencent/sign.ts';

const { default: Sign } = createRequire(import.meta.url)(
  'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js',
) as { default: typeof SdkSign };

const INPUTS = 2000;
const WARMUP_ROUNDS = 3;
const ROUNDS = 11;
const HOST = 'ciam.tencentcloudapi.com';
const SERVICE = 'ciam';
const CONTENT_TYPE = 'application/json';
const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const DAY_START = 1_767_225_600; // 2026-01-01T00:00:00Z

// Deterministic PRNG so runs are comparable.
let seed = 0x2f6b_1d3a;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  return seed / 2 ** 32;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const hex = (n: number) =>
  Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

const NAMES = ['Ana', 'Bo', 'Chen Wei', 'Dara', 'Élodie', '李雷', 'Mika', 'Søren', 'Zoë'];
const CITIES = ['Singapore', 'Berlin', '北京市海淀区', 'São Paulo', 'Paris'];

const makeBody = (): string => {
  const name = pick(NAMES);
  const request: Record<string, unknown> = {
    UserId: hex(32),
    UserStoreId: hex(32),
    Email: `${name.toLowerCase().replace(/\s/g, '.')}.${hex(4)}@example.com`,
    Nickname: name,
  };
  if (rand() < 0.6) request.PhoneNumber = `+65${Math.floor(80_000_000 + rand() * 9_999_999)}`;
  if (rand() < 0.5) request.Address = `${Math.floor(rand() * 999)} Main Street, ${pick(CITIES)}`;
  if (rand() < 0.4) request.Birthdate = Math.floor(rand() * 1_000_000) * 86_400_000;
  if (rand() < 0.5) request.UserGroup = [hex(32)];
  if (rand() < 0.5) request.IndexedAttribute1 = `ext-${hex(16)}`;
  if (rand() < 0.3) {
    request.CustomizationAttributes = [
      { Name: 'department', Value: pick(['Sales', 'R&D', '市场部']), Type: 'STRING' },
      { Name: 'employeeNumber', Value: String(Math.floor(rand() * 1e6)), Type: 'STRING' },
    ];
  }
  return JSON.stringify(request);
};

interface Input {
  body: string;
  bytes: Buffer;
  timestamp: number;
}

const inputs: Input[] = Array.from({ length: INPUTS }, () => {
  const body = makeBody();
  return {
    body,
    bytes: Buffer.from(body, 'utf8'),
    timestamp: DAY_START + Math.floor(rand() * 86_399),
  };
});

// One cache for the whole run, as one Tencent client keeps one for its lifetime.
const keyCache = createTc3KeyCache();
const ours = (input: Input): string =>
  signTc3(
    {
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      service: SERVICE,
      host: HOST,
      contentType: CONTENT_TYPE,
      body: input.body,
      timestamp: input.timestamp,
    },
    keyCache,
  ).authorization;

const sdk = (input: Input): string =>
  Sign.sign3({
    method: 'POST',
    url: `https://${HOST}/`,
    // The SDK would JSON-encode a string payload; a Buffer of the same bytes is hashed as is.
    payload: input.bytes,
    timestamp: input.timestamp,
    service: SERVICE,
    secretId: SECRET_ID,
    secretKey: SECRET_KEY,
    multipart: false,
    boundary: '',
    headers: { 'Content-Type': CONTENT_TYPE },
  });

for (const [index, input] of inputs.entries()) {
  const a = ours(input);
  const b = sdk(input);
  if (a !== b) {
    console.error(`Signatures differ for input ${index}:\n  ours ${a}\n  sdk  ${b}`);
    process.exit(1);
  }
}

// Keeps results observable so the JIT cannot drop the work.
let sink = 0;
const round = (sign: (input: Input) => string): number => {
  const start = process.hrtime.bigint();
  for (const input of inputs) sink = (sink + sign(input).charCodeAt(150)) | 0;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return inputs.length / seconds;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

for (let i = 0; i < WARMUP_ROUNDS; i += 1) {
  round(ours);
  round(sdk);
}

const oursRates: number[] = [];
const sdkRates: number[] = [];
for (let i = 0; i < ROUNDS; i += 1) {
  // Alternate who goes first so GC and frequency drift hit both sides alike.
  if (i % 2 === 0) {
    oursRates.push(round(ours));
    sdkRates.push(round(sdk));
  } else {
    sdkRates.push(round(sdk));
    oursRates.push(round(ours));
  }
}

const oursRate = median(oursRates);
const sdkRate = median(sdkRates);
const ratio = oursRate / sdkRate;
const format = (rate: number) => `${Math.round(rate).toLocaleString('en-US')} signatures/s`;
console.log(`inputs: ${INPUTS} UpdateUser bodies, ${ROUNDS} rounds (median), sink ${sink}`);
console.log(`signTc3:    ${format(oursRate)}`);
console.log(`Sign.sign3: ${format(sdkRate)}`);
console.log(`ratio:      ${ratio.toFixed(2)}x`);
console.log(`goal ≥ 2x: ${ratio >= 2 ? 'met' : 'not met'}`);
