/**
 * `npm run emulator` / `npm start`: the CIAM emulator on a fixed local port. A dev tool, so it reads
 * its settings from the environment here and nowhere else.
 */
import { loadSeed, startEmulator } from './server.ts';

const port = Number(process.env.CIAM_EMULATOR_PORT ?? 3100);
const seedPath = process.env.CIAM_EMULATOR_SEED ?? 'emulator/seed.json';
const rateLimit = Number(process.env.CIAM_EMULATOR_RATE_LIMIT ?? 20);
const phoneRegex = process.env.CIAM_EMULATOR_PHONE_REGEX;

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('CIAM_EMULATOR_PORT must be a port number');
  process.exit(1);
}
if (Number.isNaN(rateLimit)) {
  console.error('CIAM_EMULATOR_RATE_LIMIT must be a number');
  process.exit(1);
}

const emulator = await startEmulator({
  host: '127.0.0.1',
  port,
  seed: loadSeed(seedPath),
  rateLimit,
  ...(phoneRegex ? { phoneRegex } : {}),
  // Action, code and the signing key (one per tenant) only: bodies carry personal data.
  onCall: (call) => {
    const outcome = call.code ?? 'OK';
    const fault = call.fault ? ` fault=${call.fault}` : '';
    const key = call.secretId ? ` key=${call.secretId}` : '';
    console.log(
      `${new Date(call.at).toISOString()} ${call.action || '-'} ${outcome}${fault}${key}`,
    );
  },
});

console.log(
  `CIAM emulator listening on ${emulator.url} (seed ${seedPath}, ${rateLimit}/s per action)`,
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  emulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
