// The layer rules of lib/: every import points down this stack. A module may import modules of a
// lower layer, and its own folder; never a higher layer, nor a sibling in its own layer. So there
// is no cycle between folders, and no chain (webhook, scim, queue) reaches the composition root.
// `npm run lint` runs this check (`npm run deps`).
//
//   runtime/                          composition root: builds every chain's dependencies
//   webhook/  scim/  queue/           the three chains (middy), siblings that share nothing
//   delivery/                         the apply seam both webhook and queue sit on
//   sources/  mapping/                per-source plug-ins; UserChange -> UpdateUser
//   config/                           connection config: schema, loader, types
//   ciam/                             CIAM API, user resolution, apply, stale-event guard
//   http/  secrets/  log/             HTTP request/response/middleware; secret sources; logging
//   tencent/                          TC3 signer, API client, Tencent error codes
//   expression.ts  limit/  aws/       JSONata-or-path; token bucket; AWS SDK loaded on first use
//   errors.ts  change.ts  metrics.ts  is-record.ts  hash.ts  fetch.ts  require-on-first-use.ts
//   validators/                                                   (foundation)
const LAYERS = [
  [
    'errors.ts',
    'change.ts',
    'metrics.ts',
    'is-record.ts',
    'hash.ts',
    'require-on-first-use.ts',
    'validators/',
  ],
  ['expression.ts', 'limit/', 'aws/', 'filter/'],
  ['tencent/'],
  ['http/', 'secrets/', 'log/'],
  ['ciam/'],
  ['config/'],
  ['sources/', 'mapping/'],
  ['delivery/', 'source-apis/'],
  ['webhook/', 'scim/', 'queue/'],
  ['reconcile/', 'explain/'],
  ['runtime/'],
];

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pathOf = (part) => `^lib/${escapeRegExp(part)}${part.endsWith('/') ? '' : '$'}`;
const anyOf = (parts) => `(${parts.map(pathOf).join('|')})`;

const layerRules = LAYERS.flatMap((layer, index) => {
  const above = LAYERS.slice(index + 1).flat();
  return layer.flatMap((part) => {
    const forbidden = [...above, ...layer.filter((other) => other !== part)];
    if (forbidden.length === 0) return [];
    return [
      {
        name: `layer:${part}`,
        comment: `lib/${part} may import only lower layers (see the stack at the top of this file)`,
        severity: 'error',
        from: { path: pathOf(part) },
        to: { path: anyOf(forbidden) },
      },
    ];
  });
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'lib-stays-in-lib',
      comment: 'lib/ never imports the entry points, local tools, tests, benchmarks or scripts',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(handlers|local|test|bench|scripts|emulator)/' },
    },
    {
      name: 'handlers-only-wire',
      comment: 'An entry point takes the composition root and its chain, nothing else of lib/',
      severity: 'error',
      from: { path: '^handlers/' },
      to: {
        path: '^lib/',
        pathNot: '^lib/(runtime/|(webhook|scim|queue|reconcile)/handler\\.ts$)',
      },
    },
    {
      name: 'no-circular',
      comment: 'No import cycle, within a folder or across folders',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'every-lib-folder-has-a-layer',
      comment: 'A new lib/ folder or root module needs a place in LAYERS',
      severity: 'error',
      from: { path: '^lib/', pathNot: anyOf(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.d.ts'] },
  },
};
