/** Jest runs the TypeScript tests in test/ against lib/ through ts-jest. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    // eventsource-parser ships ESM only; compile it to CommonJS for Jest.
    '^.+/node_modules/eventsource-parser/.+\\.js$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!eventsource-parser/)'],
  testTimeout: 30000,
};
