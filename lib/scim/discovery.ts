// RFC 7643 §5–7 discovery documents: what this SCIM endpoint supports, for Entra's and Okta's
// schema discovery. Static: the same for every connection.
import { GROUP_SCHEMA } from './group.ts';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA } from './patch.ts';

const string = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});

const multi = (name: string, subAttributes: unknown[]) => ({
  name,
  type: 'complex',
  multiValued: true,
  required: false,
  mutability: 'readWrite',
  returned: 'default',
  subAttributes,
});

const typed = [
  string('value'),
  string('type'),
  {
    name: 'primary',
    type: 'boolean',
    multiValued: false,
    required: false,
    mutability: 'readWrite',
    returned: 'default',
  },
];

export const serviceProviderConfig = () => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 100 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'Authorization: Bearer <the connection token>',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig' },
});

const USER_RESOURCE_TYPE = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  schema: CORE_USER_SCHEMA,
  schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
  meta: { resourceType: 'ResourceType' },
};

const USER_SCHEMA = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
  id: CORE_USER_SCHEMA,
  name: 'User',
  description: 'User account',
  attributes: [
    string('userName', { required: true, uniqueness: 'server' }),
    string('externalId', { caseExact: true }),
    string('displayName'),
    string('nickName'),
    {
      name: 'name',
      type: 'complex',
      multiValued: false,
      required: false,
      mutability: 'readWrite',
      returned: 'default',
      subAttributes: [string('formatted'), string('givenName'), string('familyName')],
    },
    {
      name: 'active',
      type: 'boolean',
      multiValued: false,
      required: false,
      mutability: 'readWrite',
      returned: 'default',
    },
    multi('emails', typed),
    multi('phoneNumbers', typed),
    multi('addresses', [
      string('formatted'),
      string('streetAddress'),
      string('locality'),
      string('region'),
      string('postalCode'),
      string('country'),
      string('type'),
    ]),
  ],
  meta: { resourceType: 'Schema' },
};

const ENTERPRISE_SCHEMA = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise user (accepted; mapped only through mapping overrides)',
  attributes: [
    string('employeeNumber'),
    string('costCenter'),
    string('organization'),
    string('division'),
    string('department'),
  ],
  meta: { resourceType: 'Schema' },
};

const GROUP_RESOURCE_TYPE = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'A CIAM user group (created in the CIAM console; SCIM changes its members)',
  schema: GROUP_SCHEMA,
  meta: { resourceType: 'ResourceType' },
};

const GROUP_SCHEMA_DOCUMENT = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group (a CIAM user group: id is its UserGroupId, displayName its DisplayName)',
  attributes: [
    // Kept as CIAM's DisplayName: a rename is answered without renaming the CIAM group.
    string('displayName', { required: true, mutability: 'readOnly', uniqueness: 'server' }),
    {
      name: 'members',
      type: 'complex',
      multiValued: true,
      required: false,
      mutability: 'readWrite',
      returned: 'default',
      subAttributes: [
        string('value', { caseExact: true, mutability: 'immutable' }),
        {
          name: '$ref',
          type: 'reference',
          referenceTypes: ['User'],
          multiValued: false,
          required: false,
          caseExact: true,
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none',
        },
        string('display', { mutability: 'readOnly' }),
      ],
    },
  ],
  meta: { resourceType: 'Schema' },
};

const list = (resources: unknown[]) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
  totalResults: resources.length,
  Resources: resources,
  startIndex: 1,
  itemsPerPage: resources.length,
});

/** The answer for GET /ResourceTypes[/id] and /Schemas[/id], or undefined (404). */
export const discovery = (kind: 'ResourceTypes' | 'Schemas', id: string | undefined) => {
  const resources =
    kind === 'ResourceTypes'
      ? [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE]
      : [USER_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA_DOCUMENT];
  if (id === undefined) return list(resources);
  return resources.find((resource) => resource.id.toLowerCase() === id.toLowerCase());
};
