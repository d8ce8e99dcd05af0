import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeSecretsExtension,
  getSecretValueBody,
  startFakeSecretsExtension,
} from '../../local/secrets-extension.ts';

const SECRETS = {
  'app/json': { signingSecret: 'whsec_x' },
  'app/text': 'plain',
};
const TOKEN = 'session-token';

describe('local/secrets-extension (stand-in for the Parameters and Secrets extension)', () => {
  let extension: FakeSecretsExtension;
  const get = (secretId: string, headers: Record<string, string> = {}) =>
    fetch(
      `http://127.0.0.1:${extension.port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`,
      { headers },
    );
  const withToken = { 'X-Aws-Parameters-Secrets-Token': TOKEN };

  beforeAll(async () => {
    extension = await startFakeSecretsExtension({ secrets: SECRETS, token: TOKEN });
  });
  afterAll(async () => {
    await extension.close();
  });

  it('answers GetSecretValue JSON for a secret name when the token matches', async () => {
    const res = await get('app/json', withToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ARN: 'arn:aws:secretsmanager:ap-southeast-1:000000000000:secret:app/json-abcdef',
      Name: 'app/json',
      SecretString: '{"signingSecret":"whsec_x"}',
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: expect.any(Number),
    });
  });

  it('finds a secret by its full ARN and keeps a string secret as is', async () => {
    const arn = 'arn:aws:secretsmanager:ap-southeast-1:000000000000:secret:app/text-AbC123';
    const res = await get(arn, withToken);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { SecretString: string }).SecretString).toBe('plain');
  });

  it('refuses with 401 when the token is missing or wrong', async () => {
    expect((await get('app/json')).status).toBe(401);
    expect((await get('app/json', { 'X-Aws-Parameters-Secrets-Token': 'other' })).status).toBe(401);
  });

  it('answers 400 naming ResourceNotFoundException for an unknown secret', async () => {
    const res = await get('app/missing', withToken);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('ResourceNotFoundException');
  });

  it('counts what it served, by outcome', () => {
    expect(extension.served).toEqual({ ok: 2, unauthorized: 2, notFound: 1, badRequest: 0 });
  });

  it('gives the same body the fake Secrets Manager gives', () => {
    expect(getSecretValueBody(SECRETS, 'app/json')?.SecretString).toBe(
      '{"signingSecret":"whsec_x"}',
    );
    expect(getSecretValueBody(SECRETS, 'nope')).toBeUndefined();
  });
});
