import type { CredentialsProvider, TencentCredentials } from '../tencent/credentials.ts';
import { secretUnavailable } from './cached-source.ts';
import type { SecretSource } from './types.ts';

const requiredString = (json: Record<string, unknown>, name: string, key: string): string => {
  const value = json[key];
  if (typeof value !== 'string' || value === '') {
    throw secretUnavailable(name, key, 'is missing or not a non-empty string');
  }
  return value;
};

/**
 * Tencent API credentials from one secret holding `{"SecretId","SecretKey","Token"?}`. Caching is
 * the SecretSource's; `invalidate` after an auth failure makes the next signing refetch.
 */
export const createTencentCredentials = (
  secrets: SecretSource,
  name: string,
): CredentialsProvider => ({
  async get(): Promise<TencentCredentials> {
    // getJson already trims string values.
    const json = await secrets.getJson(name);
    const credentials: TencentCredentials = {
      secretId: requiredString(json, name, 'SecretId'),
      secretKey: requiredString(json, name, 'SecretKey'),
    };
    const token = json.Token;
    if (token !== undefined && token !== null && token !== '') {
      if (typeof token !== 'string') throw secretUnavailable(name, 'Token', 'is not a string');
      credentials.token = token;
    }
    return credentials;
  },
  invalidate() {
    secrets.invalidate(name);
  },
});
