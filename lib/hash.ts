import { createHash } from 'node:crypto';

/** SHA-256 as lower-case hex, over the bytes given (strings as UTF-8). */
export const sha256Hex = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest('hex');
