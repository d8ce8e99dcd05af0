/**
 * The part of `fetch` the adapter calls (CIAM, the Okta Users API, the secrets extension): what
 * `createKeepAliveFetch` implements, and what every module that takes an injected fetch may use.
 * The global `fetch` fits it as well, so tests and local runs can pass either without a cast.
 */
export type HttpFetch = (input: string | URL, init?: HttpRequestInit) => Promise<HttpResponse>;

export interface HttpRequestInit {
  /** Default GET. */
  method?: string;
  headers?: Readonly<Record<string, string>> | Headers | Array<[string, string]>;
  /** Text only: every request the adapter sends is JSON or has no body. */
  body?: string;
  signal?: AbortSignal;
  /**
   * Redirects are never followed: the keep-alive fetch hands the 3xx back as it is, and the global
   * fetch does the same only when told, so `manual` is the one value both honour.
   */
  redirect?: 'manual';
}

export interface HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  /** Cancelled to free the connection when the body is not wanted. */
  readonly body: { cancel(): Promise<void> } | null;
  text(): Promise<string>;
  json(): Promise<unknown>;
}
