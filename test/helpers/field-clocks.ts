import { DEFAULT_SEED_PATH } from '../../emulator/seed.ts';
import { loadSeed, type Seed, type SeedUser } from '../../emulator/server.ts';
import type { CiamApi, CiamUser } from '../../lib/ciam/types.ts';
import { signHmacDelivery } from '../../lib/sources/hmac/sender.ts';
import { signStandardWebhooksDelivery } from '../../lib/sources/standard-webhooks/sender.ts';
import { EMULATOR_USER_STORE_ID } from './emulator.ts';
import { readJson } from './files.ts';

/**
 * Two connections on one user store, as the field-clocks proofs run them: a Clerk app (Svix
 * snapshots of the whole user, dated by `updated_at`) and an hmac feed whose bodies carry a few
 * fields and their own event time (`fields.occurredAt`), so its changes are partial and dated.
 */

/** `clerk`: the id whose earlier-version mark is `adapter_watermark_clerk`. */
export const CLERK = 'clerk';
export const HMAC = 'hr-feed';
export type ConnectionId = typeof CLERK | typeof HMAC;

export const STORE = EMULATOR_USER_STORE_ID;

/** The demo secrets of config/local-secrets.json, which the config below names. */
const SECRETS = {
  [CLERK]: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  [HMAC]: 'demo-hmac-secret',
} as const;

const EVENT_ID_HEADER = 'x-event-id';

/** The CIAM fields the two connections write; `custom:tier` is Clerk's `public_metadata.tier`. */
export const FIELDS = ['UserName', 'Email', 'PhoneNumber', 'Nickname', 'custom:tier'] as const;
export type Field = (typeof FIELDS)[number];
/** What the hmac feed's bodies can carry. */
export const HMAC_FIELDS = ['UserName', 'Email', 'PhoneNumber', 'Nickname'] as const;

export type Authority = Partial<Record<Field, ConnectionId[]>>;

export interface FieldClocksConfigOptions {
  delivery?: 'sync' | 'queued';
  authority?: Authority;
}

/** The adapter config: both connections on the emulator's store, resolved by IndexedAttribute1. */
export const fieldClocksConfig = (options: FieldClocksConfigOptions = {}) => {
  const local = readJson<{ ciam: unknown }>('config/local.json');
  const delivery = options.delivery ?? 'sync';
  return {
    ciam: local.ciam,
    connections: [
      {
        id: CLERK,
        source: 'standard-webhooks',
        userStoreId: STORE,
        secrets: { signing: [{ name: 'ciam-webhook-adapter/clerk', key: 'signingSecret' }] },
        resolve: { by: 'indexedAttribute', index: 1 },
        mapping: {},
        delivery,
        options: {},
      },
      {
        id: HMAC,
        source: 'hmac',
        userStoreId: STORE,
        secrets: { signing: [{ name: 'ciam-webhook-adapter/hmac', key: 'secret' }] },
        resolve: { by: 'indexedAttribute', index: 1 },
        mapping: {},
        delivery,
        options: {
          eventIdHeader: EVENT_ID_HEADER,
          payloadSchema: {
            type: 'object',
            required: ['id', 'at'],
            additionalProperties: false,
            properties: {
              id: { type: 'string', minLength: 1 },
              at: { type: 'integer' },
              username: { type: 'string' },
              email: { type: 'string', format: 'email' },
              phone: { type: 'string' },
              name: { type: 'string' },
            },
          },
          fields: {
            externalId: 'id',
            occurredAt: 'at',
            userName: 'username',
            email: 'email',
            phone: 'phone',
            nickname: 'name',
          },
        },
      },
    ],
    ...(options.authority === undefined
      ? {}
      : { userStores: { [STORE]: { authority: options.authority } } }),
  };
};

/** The seed's users by their IndexedAttribute1 (the id both sources send). */
export const SEED_USERS = {
  'ext-alice': 'demo-user-1',
  'ext-bob': 'demo-user-2',
  'ext-carol': 'demo-user-3',
} as const;
export type ExternalId = keyof typeof SEED_USERS;

/** One change at its source: who sent it, about whom, when, and the CIAM values it carries. */
export interface SourceChange {
  connection: ConnectionId;
  externalId: string;
  eventId: string;
  /** Event time, epoch ms: Clerk's `updated_at`, the hmac body's `at`. */
  at: number;
  /** A Clerk change carries what its snapshot holds; an hmac change only these. */
  values: Partial<Record<Field, string>>;
}

const clerkBody = (change: SourceChange): string => {
  const { values } = change;
  return JSON.stringify({
    type: 'user.updated',
    object: 'event',
    timestamp: change.at,
    data: {
      id: change.externalId,
      object: 'user',
      username: values.UserName ?? null,
      // Clerk's Nickname is "first last"; the whole nickname as the first name keeps it verbatim.
      first_name: values.Nickname ?? null,
      last_name: null,
      primary_email_address_id: values.Email === undefined ? null : 'idn_email',
      email_addresses:
        values.Email === undefined
          ? []
          : [{ id: 'idn_email', object: 'email_address', email_address: values.Email }],
      primary_phone_number_id: values.PhoneNumber === undefined ? null : 'idn_phone',
      phone_numbers:
        values.PhoneNumber === undefined
          ? []
          : [{ id: 'idn_phone', object: 'phone_number', phone_number: values.PhoneNumber }],
      public_metadata: values['custom:tier'] === undefined ? {} : { tier: values['custom:tier'] },
      created_at: 1_700_000_000_000,
      updated_at: change.at,
    },
  });
};

const hmacBody = (change: SourceChange): string => {
  const { values } = change;
  if (values['custom:tier'] !== undefined) throw new Error('the hmac feed maps no custom field');
  return JSON.stringify({
    id: change.externalId,
    at: change.at,
    ...(values.UserName === undefined ? {} : { username: values.UserName }),
    ...(values.Email === undefined ? {} : { email: values.Email }),
    ...(values.PhoneNumber === undefined ? {} : { phone: values.PhoneNumber }),
    ...(values.Nickname === undefined ? {} : { name: values.Nickname }),
  });
};

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * POSTs one change as its source's sender signs it, signed now (Svix checks its timestamp);
 * sending the same change again is a redelivery: same id, same body.
 */
export const sendChange = async (baseUrl: string, change: SourceChange): Promise<Answer> => {
  const nowMs = Date.now();
  const body = change.connection === CLERK ? clerkBody(change) : hmacBody(change);
  const headers =
    change.connection === CLERK
      ? signStandardWebhooksDelivery({
          body,
          secret: SECRETS[CLERK],
          nowMs,
          eventId: change.eventId,
        })
      : signHmacDelivery(
          { body, secret: SECRETS[HMAC], nowMs, eventId: change.eventId },
          { eventIdHeader: EVENT_ID_HEADER },
        );
  const res = await fetch(`${baseUrl}/webhooks/${change.connection}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** emulator/seed.json, read once: the property compares every order with it. */
let defaultSeed: Seed | undefined;
const readDefaultSeed = (): Seed => {
  defaultSeed ??= loadSeed(DEFAULT_SEED_PATH);
  return structuredClone(defaultSeed);
};

/** emulator/seed.json, with `extraUsers` added to the store. */
export const seedWith = (extraUsers: SeedUser[] = []): Seed => {
  const seed = readDefaultSeed();
  return {
    ...seed,
    userStores: seed.userStores.map((store) =>
      store.UserStoreId === STORE
        ? { ...store, Users: [...(store.Users ?? []), ...extraUsers] }
        : store,
    ),
  };
};

/** A user of emulator/seed.json, as the emulator starts (and resets) with it. */
export const seedUser = (userId: string): SeedUser => {
  const user = readDefaultSeed()
    .userStores.find((store) => store.UserStoreId === STORE)
    ?.Users?.find((candidate) => candidate.UserId === userId);
  if (user === undefined) throw new Error(`no seed user ${userId}`);
  return user;
};

/**
 * A user as CIAM answers DescribeUserById (unmasked), without LastModifiedDate (the write's
 * time, different in every run). Custom attributes are sorted by name: CIAM keys them by name,
 * and the emulator keeps them in the order the last write listed them, which follows the order
 * the adapter first saw them in.
 */
export const ciamUser = async (ciam: CiamApi, userId: string): Promise<CiamUser> => {
  const { User } = await ciam.describeUserById({
    UserStoreId: STORE,
    UserId: userId,
    Original: true,
  });
  if (User === null || User === undefined) throw new Error(`no CIAM user ${userId}`);
  const { LastModifiedDate: _modified, ...rest } = User;
  if (rest.CustomAttributes !== undefined) {
    rest.CustomAttributes = [...rest.CustomAttributes].sort((a, b) =>
      a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0,
    );
  }
  return rest;
};

/** The value of a user's custom attribute. */
export const customValue = (user: CiamUser, name: string): string | undefined =>
  user.CustomAttributes?.find((item) => item.Name === name)?.Value;

export const CLOCKS_ATTRIBUTE = 'adapter_field_clocks';
