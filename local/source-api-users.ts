import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedUser } from '../emulator/seed.ts';

/**
 * The users the source API stand-ins (local/source-apis.ts) serve, each in its API's own shape.
 *
 * One neutral person per user, turned into a Clerk user, a WorkOS directory user, an Auth0 user or
 * an Okta user. The demo seed uses the emulator seed's external ids (`ext-alice`, `ext-bob`,
 * `ext-carol`, its users' IndexedAttribute1, which the demo connections resolve by), and where a
 * sample event in `events/` carries the user object itself (Clerk's and Auth0's alice, WorkOS's
 * bob) the stand-in serves exactly that object, so a listed user and its webhook agree.
 */

export type SourceApiName = 'clerk' | 'workos' | 'auth0' | 'okta';
export const SOURCE_API_NAMES: readonly SourceApiName[] = ['clerk', 'workos', 'auth0', 'okta'];

export interface SourcePerson {
  id: string;
  userName?: string;
  email?: string;
  phone?: string;
  givenName?: string;
  familyName?: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
  /** Okta DEPROVISIONED, WorkOS `inactive`; listed only where the API lists such users. */
  deprovisioned?: boolean;
  /** WorkOS directory groups the person is in (the stand-in serves them as memberships). */
  groups?: { id: string; name: string }[];
}

/** A user object as one API returns it; its id is under `id` (Clerk, WorkOS, Okta) or `user_id`. */
export type ApiUser = Record<string, unknown>;

export const DEMO_DIRECTORY_ID = 'directory_01JGDEMODIR000000000000';

const ms = (iso: string): number => Date.parse(iso);

export const clerkUserOf = (person: SourcePerson): ApiUser => ({
  id: person.id,
  object: 'user',
  username: person.userName ?? null,
  first_name: person.givenName ?? null,
  last_name: person.familyName ?? null,
  image_url: `https://img.clerk.com/${person.id}`,
  has_image: false,
  primary_email_address_id: person.email === undefined ? null : `idn_${person.id}_mail`,
  email_addresses:
    person.email === undefined
      ? []
      : [
          {
            id: `idn_${person.id}_mail`,
            object: 'email_address',
            email_address: person.email,
            verification: { status: 'verified', strategy: 'email_code' },
            linked_to: [],
          },
        ],
  primary_phone_number_id: person.phone === undefined ? null : `idn_${person.id}_phone`,
  phone_numbers:
    person.phone === undefined
      ? []
      : [{ id: `idn_${person.id}_phone`, object: 'phone_number', phone_number: person.phone }],
  external_id: null,
  public_metadata: {},
  private_metadata: {},
  unsafe_metadata: {},
  banned: false,
  locked: false,
  created_at: ms(person.createdAt),
  updated_at: ms(person.updatedAt),
  last_sign_in_at: null,
  last_active_at: null,
});

export const workosUserOf = (person: SourcePerson, directoryId = DEMO_DIRECTORY_ID): ApiUser => ({
  object: 'directory_user',
  id: person.id,
  directory_id: directoryId,
  organization_id: 'org_01JGDEMOORG000000000000',
  idp_id: `00u${person.id}`,
  email: person.email ?? null,
  first_name: person.givenName ?? null,
  last_name: person.familyName ?? null,
  emails: person.email === undefined ? [] : [{ primary: true, type: 'work', value: person.email }],
  ...(person.userName === undefined ? {} : { username: person.userName }),
  state: person.deprovisioned === true ? 'inactive' : 'active',
  ...(person.groups === undefined
    ? {}
    : { groups: person.groups.map((group) => ({ object: 'directory_group', ...group })) }),
  custom_attributes: {},
  raw_attributes: {},
  created_at: person.createdAt,
  updated_at: person.updatedAt,
});

export const auth0UserOf = (person: SourcePerson): ApiUser => {
  const name = [person.givenName, person.familyName].filter(Boolean).join(' ');
  return {
    user_id: person.id,
    email: person.email ?? null,
    email_verified: person.email !== undefined,
    username: person.userName ?? null,
    phone_number: person.phone ?? null,
    given_name: person.givenName ?? null,
    family_name: person.familyName ?? null,
    name: name === '' ? null : name,
    nickname: person.userName ?? null,
    picture: `https://example.com/${person.id}.png`,
    user_metadata: {},
    app_metadata: {},
    identities: [
      {
        connection: 'Username-Password-Authentication',
        provider: 'auth0',
        user_id: person.id,
        isSocial: false,
      },
    ],
    blocked: false,
    created_at: person.createdAt,
    updated_at: person.updatedAt,
  };
};

export const oktaUserOf = (person: SourcePerson): ApiUser => ({
  id: person.id,
  status: person.deprovisioned === true ? 'DEPROVISIONED' : 'ACTIVE',
  created: person.createdAt,
  activated: person.createdAt,
  statusChanged: person.updatedAt,
  lastLogin: null,
  lastUpdated: person.updatedAt,
  passwordChanged: null,
  type: { id: 'oty2demoType' },
  profile: {
    login: person.userName === undefined ? (person.email ?? person.id) : `${person.userName}`,
    email: person.email ?? null,
    firstName: person.givenName ?? null,
    lastName: person.familyName ?? null,
    mobilePhone: person.phone ?? null,
    secondEmail: null,
  },
  credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
  _links: { self: { href: `https://demo.okta.com/api/v1/users/${person.id}` } },
});

export const API_USER_OF: Readonly<Record<SourceApiName, (person: SourcePerson) => ApiUser>> = {
  clerk: clerkUserOf,
  workos: (person) => workosUserOf(person),
  auth0: auth0UserOf,
  okta: oktaUserOf,
};

/** The id an API user goes by. */
export const idOf = (user: ApiUser): string => String(user.user_id ?? user.id);

/**
 * The demo people: the emulator seed's three users, as the sources know them (their phones and
 * names differ from CIAM's, so a local reconcile has drift to show), and one user CIAM lacks.
 */
export const DEMO_PEOPLE: readonly SourcePerson[] = [
  {
    id: 'ext-alice',
    userName: 'alice',
    email: 'alice@example.com',
    phone: '+6591234561',
    givenName: 'Alice',
    familyName: 'Anders',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-12-31T23:59:59.500Z',
    // The emulator seed's groups by DisplayName: a local WorkOS import adds the memberships.
    groups: [{ id: 'directory_group_staff', name: 'Staff' }],
  },
  {
    id: 'ext-bob',
    userName: 'bob',
    email: 'bob@example.com',
    phone: '+6591234562',
    givenName: 'Bob',
    familyName: 'Brown',
    createdAt: '2024-01-10T09:00:00.000Z',
    updatedAt: '2024-12-31T23:59:58.000Z',
  },
  {
    id: 'ext-carol',
    userName: 'carol',
    email: 'carol@example.com',
    phone: '+6591234563',
    givenName: 'Carol',
    familyName: 'Núñez',
    createdAt: '2024-02-01T00:00:00.000Z',
    updatedAt: '2024-11-30T12:00:00.000Z',
    groups: [
      { id: 'directory_group_staff', name: 'Staff' },
      { id: 'directory_group_admins', name: 'Admins' },
    ],
  },
  {
    id: 'ext-dave',
    userName: 'dave',
    email: 'dave@example.com',
    givenName: 'Dave',
    familyName: 'Dunn',
    createdAt: '2024-03-01T00:00:00.000Z',
    updatedAt: '2024-10-01T08:00:00.000Z',
  },
];

/** Okta only: a DEPROVISIONED user, which Okta's plain list leaves out. */
export const DEPROVISIONED_PERSON: SourcePerson = {
  id: 'ext-erin',
  userName: 'erin',
  email: 'erin@example.com',
  givenName: 'Erin',
  familyName: 'Evans',
  createdAt: '2024-04-01T00:00:00.000Z',
  updatedAt: '2024-09-01T00:00:00.000Z',
  deprovisioned: true,
};

/** The user object a committed sample event carries, or undefined when it has none. */
const sampleUser = (eventsDir: string, file: string, pick: (body: never) => unknown) => {
  try {
    const event = JSON.parse(readFileSync(join(eventsDir, `${file}.json`), 'utf8'));
    return pick(JSON.parse(event.body) as never) as ApiUser | undefined;
  } catch {
    return undefined;
  }
};

/** Each API's demo users, oldest first; sample events' own user objects where they have one. */
export const demoUsers = (eventsDir = 'events'): Record<SourceApiName, ApiUser[]> => {
  const fromSample: Partial<Record<SourceApiName, ApiUser | undefined>> = {
    clerk: sampleUser(eventsDir, 'clerk.user-updated', (b: { data: ApiUser }) => b.data),
    workos: sampleUser(eventsDir, 'workos.user-updated', (b: { data: ApiUser }) => {
      // previous_attributes belong to the event, not to the directory user the API lists.
      const { previous_attributes: _previous, ...user } = b.data;
      return user;
    }),
    auth0: sampleUser(
      eventsDir,
      'auth0.user-updated',
      (b: { data: { object: ApiUser } }) => b.data.object,
    ),
  };
  const build = (api: SourceApiName): ApiUser[] => {
    const sample = fromSample[api];
    const people = api === 'okta' ? [...DEMO_PEOPLE, DEPROVISIONED_PERSON] : DEMO_PEOPLE;
    return people.map((person) =>
      sample !== undefined && idOf(sample) === person.id ? sample : API_USER_OF[api](person),
    );
  };
  return {
    clerk: build('clerk'),
    workos: build('workos'),
    auth0: build('auth0'),
    okta: build('okta'),
  };
};

/**
 * `count` synthetic people, `ext-synth-000001`…, created a minute apart in id order; for
 * benchmarks and paging tests. The same index always gives the same person.
 */
export const syntheticPeople = (count: number, prefix = 'ext-synth-'): SourcePerson[] =>
  Array.from({ length: count }, (_, index) => {
    const n = String(index + 1).padStart(6, '0');
    const created = Date.UTC(2024, 0, 1) + index * 60_000;
    return {
      id: `${prefix}${n}`,
      userName: `synth${n}`,
      email: `synth${n}@example.com`,
      phone: `+659${String(1_000_000 + index).slice(-7)}`,
      givenName: 'Synth',
      familyName: `User ${n}`,
      createdAt: new Date(created).toISOString(),
      updatedAt: new Date(created + 86_400_000).toISOString(),
    };
  });

/**
 * The CIAM users of `people` as the emulator seeds them (`emulator/seed.json`'s shape), linked by
 * IndexedAttribute1 = the source id, as the demo connections resolve. Every `driftEvery`-th one
 * (0: none) keeps an older nickname, so a reconcile has drift to find; users created from the
 * same index always match, so a benchmark can seed CIAM and a source with one call each.
 */
export const ciamSeedUsersOf = (people: readonly SourcePerson[], driftEvery = 0): SeedUser[] =>
  people.map((person, index) => ({
    UserId: `ciam-${person.id}`,
    ...(person.userName === undefined ? {} : { UserName: person.userName }),
    ...(person.email === undefined ? {} : { Email: person.email }),
    ...(person.phone === undefined ? {} : { PhoneNumber: person.phone }),
    Nickname:
      driftEvery > 0 && index % driftEvery === 0
        ? 'Old Name'
        : [person.givenName, person.familyName].filter(Boolean).join(' '),
    IndexedAttribute1: person.id,
    Status: 'NORMAL',
    CreatedDate: Date.parse(person.createdAt),
    LastModifiedDate: Date.parse(person.createdAt),
  }));
