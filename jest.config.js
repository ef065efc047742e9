/**
 * Jest runs the TypeScript tests in test/ against lib/ through ts-jest, in two
 * projects:
 * - `native`: every suite, on the C++ addon (SSE_NATIVE=native: a missing
 *   build fails loudly instead of falling back);
 * - `js`: the protocol, stream, hub and client suites again on the
 *   TypeScript backend (SSE_NATIVE=js). Cases about socket adoption do not
 *   exist there (test/helpers/server.ts: SINKS, testAdopted); suites that
 *   only make sense with the addon (workers, install, adoption churn) are
 *   not selected.
 * `npx jest --selectProjects js` runs one of them.
 */
const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    // eventsource-parser ships ESM only; compile it to CommonJS for Jest.
    '^.+/node_modules/eventsource-parser/.+\\.js$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!eventsource-parser/)'],
};

/** The suites run on the TypeScript backend too (test/NN prefixes). */
const kJsSuites = [
  '01', '03', '19', // protocol vectors, the backend itself
  '10', '11', '12', '13', '14', '15', '16', '18', // streams
  '30', '32', '33', '34', '35', // clients
  '50', '51', '52', '53', '54', '55', '56', '57', '60', '61', '62', '63', // hub, metrics, ndjson
  '81', // listenSSE (node:http engine)
];

module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...base,
      displayName: 'native',
      testMatch: ['**/*.test.ts'],
      setupFiles: ['<rootDir>/test/helpers/backend-native.js'],
    },
    {
      ...base,
      displayName: 'js',
      testMatch: kJsSuites.map((n) => `**/test/${n}.*.test.ts`),
      setupFiles: ['<rootDir>/test/helpers/backend-js.js'],
    },
  ],
};
