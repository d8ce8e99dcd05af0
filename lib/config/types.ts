import type { ResolveStrategy } from '../ciam/resolve.ts';
import type { PhoneFormat, UpdateUserField } from '../ciam/update-user-fields.ts';
import type { FilterNode } from '../filter/index.ts';
import type { SecretRef } from '../secrets/types.ts';

export type SourceType = WebhookSourceType | 'scim';

/** Sources that deliver webhooks; `scim` connections are served by the SCIM function instead. */
export type WebhookSourceType = 'standard-webhooks' | 'workos' | 'auth0' | 'okta' | 'hmac';

export type { ResolveStrategy };

export interface MappingConfig {
  /** Region for numbers without a country code (libphonenumber-js), e.g. `SG`. */
  defaultPhoneRegion?: string;
  /**
   * How PhoneNumber is written, and looked up when resolving by phone: `e164` (default,
   * `+6581234567`) or `international` (`+65 81234567`).
   */
  phoneFormat?: PhoneFormat;
  /**
   * Per-field JSONata overrides, evaluated against `{ change, attributes, raw, subject }`.
   * An expression that yields `undefined` leaves the field out of the request.
   */
  fields?: Partial<Record<UpdateUserField, string>>;
  /** Fields the default mapping must not send (e.g. `["PhoneNumber"]`). */
  omit?: UpdateUserField[];
  /** Type sent with CustomizationAttributes items (`STRING` unless configured). */
  customAttributeType?: string;
}

export interface GroupsConfig {
  /**
   * Source group id or name → CIAM UserGroupId. Groups not listed are looked up by name: the CIAM
   * group whose DisplayName equals the source group's name.
   */
  map?: Record<string, string>;
  /** What a membership event for a group mapped to nothing gets: `ignore` (default) or `refuse`. */
  unmapped?: 'ignore' | 'refuse';
}

export interface Connection {
  id: string;
  source: SourceType;
  /** The CIAM target (a key of `tenants`); absent: the `ciam` block, tenant `default`. */
  tenant?: string;
  userStoreId: string;
  /**
   * Secret references by role. `signing`: the webhook secret(s); two during a rotation.
   * `apiToken`: credentials the source needs for call-backs (Okta Users API).
   */
  secrets: {
    signing: SecretRef[];
    apiToken?: SecretRef;
  };
  resolve: ResolveStrategy;
  mapping: MappingConfig;
  delivery: 'sync' | 'queued';
  /** The stale-event guard; on by default where the source supplies event times. */
  staleGuard?: { enabled?: boolean; attribute?: string };
  /**
   * The only source addresses (IPv4 or IPv6 CIDR blocks, or single addresses) this connection
   * accepts requests from; every address when absent.
   */
  allowedSourceIps?: string[];
  /** How the source's groups in membership events become CIAM groups. */
  groups?: GroupsConfig;
  /** Source-specific options, validated against that source's `optionsSchema`. */
  options: Record<string, unknown>;
  /** Backfill and reconciliation from the source's user API (`npm run reconcile`). */
  reconcile?: ReconcileConfig;
  /**
   * The scoping filter (docs/filters.md): only changes inside it are applied, the others are
   * answered `ignored` with reason `filtered`. Not on `scim` connections.
   */
  filter?: FilterNode;
}

/** The source user APIs reconciliation can list users from. */
export type SourceApiKind = 'clerk' | 'workos' | 'auth0' | 'okta';

/** Where and how a connection's source lists its users. */
export interface SourceApiConfig {
  /** Which API: clerk (standard-webhooks connections), workos, auth0 or okta (their own sources). */
  kind: SourceApiKind;
  /**
   * Base URL: default https://api.clerk.com (clerk) and https://api.workos.com (workos); the
   * tenant's own origin for auth0 (https://example.eu.auth0.com) and okta (https://example.okta.com).
   */
  baseUrl?: string;
  /** The API credential's secret (for okta, default: the connection's `secrets.apiToken`). */
  credentials?: SecretRef;
  /** WorkOS: the directory whose users are listed. */
  directoryId?: string;
  /** Users per page (each API's maximum by default). */
  pageSize?: number;
}

export interface ReconcileConfig {
  api: SourceApiConfig;
  /** A plan with more changes than this is applied only with `--yes`. */
  maxChanges?: number;
  /** CIAM users of this connection the source no longer has: only `report`ed (default) or `freeze`. */
  orphans?: 'report' | 'freeze';
  /** Source users with no CIAM user: created only when true (default false: reported). */
  createUnmatched?: boolean;
}

export interface CiamSettings {
  /** Default https://ciam.tencentcloudapi.com; the emulator is http://127.0.0.1:3100. */
  endpoint: string;
  region: string;
  /** Secret holding `{"SecretId","SecretKey","Token"?}`. */
  credentials: SecretRef;
  timeoutMs: number;
}

/** Settings shared by every connection of one CIAM user store. */
export interface UserStoreSettings {
  /** The custom attribute holding the field clocks (default adapter_field_clocks). */
  clockAttribute?: string;
  /** Per field: the connections that may set it, highest precedence first. */
  authority?: Record<string, string[]>;
}

export interface AdapterConfig {
  /** The default CIAM target (tenant `default`): connections that name no tenant write here. */
  ciam: CiamSettings;
  /**
   * Further CIAM targets by tenant id, each its own Tencent Cloud account; what one leaves out
   * (endpoint, region, timeoutMs) is filled in from `ciam` when the config is loaded.
   */
  tenants?: Record<string, CiamSettings>;
  connections: Connection[];
  /** By user store id. */
  userStores?: Record<string, UserStoreSettings>;
}
