/**
 * `SOURCE_APIS_URL` for local runs: config/local.json names the stand-ins at a fixed origin
 * (http://127.0.0.1:3300); a run whose stand-ins listen elsewhere (a test's free port, another
 * SOURCE_APIS_PORT) passes their origin, and this replaces the origin of `baseUrl` with it,
 * keeping the path (`/clerk`, `/okta`…). Without an override, `baseUrl` is returned unchanged.
 */
export const localSourceApiUrl = (baseUrl: string, override: string | undefined): string => {
  if (override === undefined || override.trim() === '') return baseUrl;
  const origin = new URL(override).origin;
  const url = new URL(baseUrl);
  return `${origin}${url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '')}`;
};

/** The connection with its `reconcile.api.baseUrl` moved to `override`'s origin (see above). */
export const withLocalSourceApi = <
  C extends { reconcile?: { api: { baseUrl?: string } } | undefined },
>(
  connection: C,
  override: string | undefined,
): C => {
  const api = connection.reconcile?.api;
  if (override === undefined || api?.baseUrl === undefined) return connection;
  return {
    ...connection,
    reconcile: {
      ...connection.reconcile,
      api: { ...api, baseUrl: localSourceApiUrl(api.baseUrl, override) },
    },
  };
};
