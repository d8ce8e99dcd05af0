export interface TencentCredentials {
  secretId: string;
  secretKey: string;
  /** Session token of temporary credentials (sent as X-TC-Token). */
  token?: string;
}

/**
 * Supplies credentials for each signing. `invalidate` is called when Tencent answers
 * AuthFailure.SecretIdNotFound / SignatureFailure / TokenFailure, so a rotated secret is refetched.
 */
export interface CredentialsProvider {
  get(): Promise<TencentCredentials>;
  invalidate(): void;
}
