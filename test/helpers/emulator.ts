import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../emulator/server.ts';
import { signTc3 } from '../../lib/tencent/sign.ts';

/** The seed's credentials and store (emulator/seed.json). */
export const EMULATOR_CREDENTIALS = { secretId: 'AKIDlocaldemo', secretKey: 'localdemosecret' };
export const EMULATOR_USER_STORE_ID = 'local-store';

export interface UseEmulatorSettings {
  /** Call `reset()` before every test (seed restored, faults and call log cleared). */
  resetBeforeEach?: boolean;
}

/**
 * Starts an emulator for the enclosing describe block (beforeAll) and closes it (afterAll).
 * Returns a getter because the emulator only exists once beforeAll has run.
 */
export const useEmulator = (
  options: EmulatorOptions = {},
  settings: UseEmulatorSettings = {},
): (() => Emulator) => {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator(options);
  });
  afterAll(async () => {
    await emulator?.close();
    emulator = undefined;
  });
  if (settings.resetBeforeEach) {
    beforeEach(async () => {
      // A call the previous test gave up on may still be in its injected delay: let it land there,
      // not in this test's freshly reset store.
      await emulator?.idle();
      emulator?.reset();
    });
  }
  return () => {
    if (!emulator) throw new Error('useEmulator: the emulator is not running (outside a test?)');
    return emulator;
  };
};

export interface EmulatorCallInput {
  action: string;
  /** Serialised with JSON.stringify unless already a string (sent byte-for-byte). */
  body?: unknown;
  secretId?: string;
  secretKey?: string;
  token?: string;
  /** Seconds; defaults to the current time. */
  timestamp?: number;
  version?: string;
  /** `null` omits the header. */
  region?: string | null;
  contentType?: string;
  /** Extra headers, sent but not signed. */
  headers?: Record<string, string>;
  /** Replaces the body after signing (to test tampering). */
  sendBody?: string;
  /** Aborts the request, as a client giving up on a slow answer does. */
  signal?: AbortSignal;
}

/** Signs with the project's own signer and POSTs to the emulator; returns the raw response. */
export const emulatorFetch = (url: string, input: EmulatorCallInput): Promise<Response> => {
  const body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body ?? {});
  const contentType = input.contentType ?? 'application/json';
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const signed = signTc3({
    secretId: input.secretId ?? EMULATOR_CREDENTIALS.secretId,
    secretKey: input.secretKey ?? EMULATOR_CREDENTIALS.secretKey,
    service: 'ciam',
    // fetch always sends its own Host (`127.0.0.1:<port>`); the emulator drops the port.
    host: new URL(url).hostname,
    contentType,
    body,
    timestamp,
  });
  const headers: Record<string, string> = {
    Authorization: signed.authorization,
    'Content-Type': contentType,
    'X-TC-Action': input.action,
    'X-TC-Version': input.version ?? '2022-03-31',
    'X-TC-Timestamp': String(timestamp),
    ...(input.region === null ? {} : { 'X-TC-Region': input.region ?? 'ap-singapore' }),
    ...(input.token === undefined ? {} : { 'X-TC-Token': input.token }),
    ...input.headers,
  };
  return fetch(`${url}/`, {
    method: 'POST',
    headers,
    body: input.sendBody ?? body,
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
};

/** As emulatorFetch, parsing the `{"Response":…}` envelope. */
export const callEmulator = async (
  url: string,
  input: EmulatorCallInput,
): Promise<{ status: number; Response: Record<string, unknown> }> => {
  const res = await emulatorFetch(url, input);
  const json = (await res.json()) as { Response: Record<string, unknown> };
  return { status: res.status, Response: json.Response };
};

/** The error code of an envelope, or undefined on success. */
export const errorCode = (response: Record<string, unknown>): string | undefined =>
  (response.Error as { Code?: string } | undefined)?.Code;
