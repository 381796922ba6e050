// Import rules of STYLE.md §2 ("may import"; anything not listed is forbidden). `npm run check`
// fails when a module breaks one. Paths are relative to the repository root.
const layer = (name, allowed) => ({
  name: `${name.replace(/\/$/, '').replace(/[^a-z]+/g, '-')}-imports`,
  comment: `${name} may import only: ${allowed.join(', ')}`,
  severity: 'error',
  from: { path: `^src/${name}` },
  to: { path: '^src/', pathNot: allowed.map((a) => `^src/${a}`) },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles (type-only imports excepted: they vanish at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    layer('core/', ['core/']),
    layer('config/', ['core/', 'config/']),
    layer('dns/', ['core/', 'dns/']),
    layer('calendar/', ['core/', 'calendar/']),
    layer('contacts/', ['core/', 'contacts/']),
    layer('mail/', ['core/', 'mail/', 'dns/resolver\\.ts$']),
    layer('store/', ['core/', 'store/']),
    layer('auth/', ['core/', 'auth/', 'store/types\\.ts$']),
    layer('services/', ['core/', 'mail/', 'calendar/', 'contacts/', 'dns/', 'auth/', 'queue/', 'services/', 'store/types\\.ts$']),
    layer('queue/', ['core/', 'mail/', 'dns/', 'queue/', 'store/types\\.ts$', 'protocols/smtp/(wire|client)/']),
    layer('cli/', ['core/', 'config/', 'services/', 'cli/']),
    layer('web/', ['core/', 'auth/', 'services/', 'protocols/jmap/', 'protocols/dav/', 'web/']),
    {
      name: 'protocol-wire-is-pure',
      comment: 'protocols/<p>/wire is a codec: core/ only',
      severity: 'error',
      from: { path: '^src/protocols/([^/]+)/wire/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/protocols/$1/wire/'] },
    },
    {
      name: 'protocol-imports',
      comment: 'a protocol reaches data through services only: never store/, queue/ or another protocol',
      severity: 'error',
      from: { path: '^src/protocols/([^/]+)/' },
      to: {
        path: '^src/',
        pathNot: ['^src/core/', '^src/mail/', '^src/calendar/', '^src/contacts/', '^src/auth/', '^src/services/', '^src/protocols/$1/'],
      },
    },
    {
      name: 'no-admin-context-on-request-paths',
      comment: 'the local administrator context is for the CLI only (ATTACKS.md R2)',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/main\\.ts$'] },
      to: { path: '^src/services/admin\\.ts$' },
    },
    {
      name: 'store-backends-behind-factory',
      comment: 'only store/index.ts and main.ts pick a backend',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/store/', '^src/main\\.ts$'] },
      to: { path: '^src/store/(?!types\\.ts$)' },
    },
    {
      name: 'sql-drivers-only-in-store',
      comment: 'only store/ speaks SQL',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: 'node_modules/(better-sqlite3|pg|postgres)/' },
    },
    {
      name: 'no-dangerous-deserialisers',
      comment: 'no type-directed deserialisation or code evaluation (ATTACKS.md R5)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '(^|/)(node-serialize|serialize-javascript|js-yaml)(/|$)|^(vm|v8)$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    exclude: { path: '\\.test\\.ts$' },
  },
};
