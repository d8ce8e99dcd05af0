import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { MemberMap } from '../lib/ciam/types.ts';
import { ConfigError } from '../lib/errors.ts';

/** A key pair the emulator accepts. `Token` set = temporary credentials: X-TC-Token must match. */
export interface SeedCredential {
  SecretId: string;
  SecretKey: string;
  Token?: string;
  /**
   * The account (CIAM tenant) the key belongs to: it sees only the user stores of the same
   * `TenantId`, and another's answer FailedOperation.InvalidUserStore, as CIAM answers for a store
   * that is not the caller's. Without it the key sees every store (a single-tenant seed).
   */
  TenantId?: string;
}

/** A user group in CIAM's `UserGroup` shape (`UserStoreId` and `TenantId` come from its store). */
export interface SeedUserGroup {
  UserGroupId: string;
  /** CIAM requires a name on CreateUserGroup and keeps names unique per user store. */
  DisplayName?: string;
  Description?: string;
  /** Epoch milliseconds. */
  CreatedDate?: number;
  /** Epoch milliseconds; CIAM spells it so for groups (users have `LastModifiedDate`). */
  LastModifyDate?: number;
}

/** A user as stored, in CIAM's response shape (`UserGroups`, `UserOrgs`, `CustomAttributes`). */
export interface SeedUser {
  UserId: string;
  UserName?: string;
  PhoneNumber?: string;
  Email?: string;
  Nickname?: string;
  Address?: string;
  /** Epoch milliseconds. */
  Birthdate?: number;
  Status?: string;
  UserGroups?: string[];
  UserOrgs?: string[];
  CustomAttributes?: MemberMap[];
  IndexedAttribute1?: string;
  IndexedAttribute2?: string;
  IndexedAttribute3?: string;
  IndexedAttribute4?: string;
  IndexedAttribute5?: string;
  CreatedDate?: number;
  LastModifiedDate?: number;
}

export interface SeedUserStore {
  UserStoreId: string;
  /**
   * The account the store belongs to: only credentials of this `TenantId` (or of none) reach it.
   * Shown as `TenantId` on the store's user groups.
   */
  TenantId?: string;
  UserGroups?: SeedUserGroup[];
  Users?: SeedUser[];
}

export interface Seed {
  credentials: SeedCredential[];
  userStores: SeedUserStore[];
}

const str = { type: 'string' } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const int = { type: 'integer' } as const;
const strList = { type: 'array', items: str } as const;

const SEED_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['credentials', 'userStores'],
  properties: {
    credentials: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['SecretId', 'SecretKey'],
        properties: {
          SecretId: nonEmpty,
          SecretKey: nonEmpty,
          Token: nonEmpty,
          TenantId: nonEmpty,
        },
      },
    },
    userStores: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['UserStoreId'],
        properties: {
          UserStoreId: nonEmpty,
          TenantId: nonEmpty,
          UserGroups: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['UserGroupId'],
              properties: {
                UserGroupId: nonEmpty,
                DisplayName: str,
                Description: str,
                CreatedDate: int,
                LastModifyDate: int,
              },
            },
          },
          Users: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['UserId'],
              properties: {
                UserId: nonEmpty,
                UserName: str,
                PhoneNumber: str,
                Email: str,
                Nickname: str,
                Address: str,
                Birthdate: int,
                Status: str,
                UserGroups: strList,
                UserOrgs: strList,
                CustomAttributes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['Name', 'Value'],
                    properties: { Name: str, Value: str, Type: str },
                  },
                },
                IndexedAttribute1: str,
                IndexedAttribute2: str,
                IndexedAttribute3: str,
                IndexedAttribute4: str,
                IndexedAttribute5: str,
                CreatedDate: int,
                LastModifiedDate: int,
              },
            },
          },
        },
      },
    },
  },
} as const;

const validateSeedShape = new Ajv({ allErrors: true, strict: true }).compile(SEED_SCHEMA);

const duplicates = (values: ReadonlyArray<string | undefined>): string[] => {
  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const v of values) {
    if (v === undefined || v === '') continue;
    if (seen.has(v)) dupes.add(v);
    seen.add(v);
  }
  return [...dupes];
};

/**
 * Cross-record rules the schema cannot express. Messages name ids and paths only, never the
 * emails or phone numbers themselves.
 */
const seedConsistencyProblems = (seed: Seed): string[] => {
  const problems: string[] = [];
  if (duplicates(seed.credentials.map((c) => c.SecretId)).length > 0) {
    problems.push('/credentials: duplicate SecretId');
  }
  for (const id of duplicates(seed.userStores.map((s) => s.UserStoreId))) {
    problems.push(`/userStores: duplicate UserStoreId ${id}`);
  }
  seed.userStores.forEach((store, i) => {
    const base = `/userStores/${i}`;
    const groups = new Set((store.UserGroups ?? []).map((g) => g.UserGroupId));
    for (const id of duplicates((store.UserGroups ?? []).map((g) => g.UserGroupId))) {
      problems.push(`${base}/UserGroups: duplicate UserGroupId ${id}`);
    }
    // CIAM refuses a second group of the same name (FailedOperation.UserGroupNameAlreadyExists).
    for (const name of duplicates((store.UserGroups ?? []).map((g) => g.DisplayName))) {
      problems.push(`${base}/UserGroups: duplicate DisplayName ${name}`);
    }
    const users = store.Users ?? [];
    for (const id of duplicates(users.map((u) => u.UserId))) {
      problems.push(`${base}/Users: duplicate UserId ${id}`);
    }
    if (duplicates(users.map((u) => u.UserName)).length > 0) {
      problems.push(`${base}/Users: duplicate UserName`);
    }
    if (duplicates(users.map((u) => u.Email?.toLowerCase())).length > 0) {
      problems.push(`${base}/Users: duplicate Email`);
    }
    if (duplicates(users.map((u) => u.PhoneNumber)).length > 0) {
      problems.push(`${base}/Users: duplicate PhoneNumber`);
    }
    users.forEach((user, j) => {
      for (const group of user.UserGroups ?? []) {
        if (!groups.has(group)) {
          problems.push(`${base}/Users/${j}/UserGroups: unknown user group ${group}`);
        }
      }
    });
  });
  return problems;
};

/** Validates an already-parsed seed; throws ConfigError (CONFIG_INVALID) listing every problem. */
export const parseSeed = (value: unknown, source = 'seed'): Seed => {
  if (!validateSeedShape(value)) {
    const problems = (validateSeedShape.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`,
    );
    throw new ConfigError(`Emulator ${source} is malformed: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  const seed = value as unknown as Seed;
  const problems = seedConsistencyProblems(seed);
  if (problems.length > 0) {
    throw new ConfigError(`Emulator ${source} is inconsistent: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return seed;
};

export const DEFAULT_SEED_PATH = fileURLToPath(new URL('./seed.json', import.meta.url));

export const loadSeed = (path: string): Seed => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Emulator seed ${path} cannot be read`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`Emulator seed ${path} is not valid JSON`, { cause });
  }
  return parseSeed(json, `seed ${path}`);
};
