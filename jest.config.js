// Unit specs sit beside the code (*.spec.ts); the end-to-end suite (e2e/*.e2e.ts) runs the built services as processes.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'es6' },
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@triad/(shared|testing|client)$': '<rootDir>/libs/$1/src/index.ts',
    '^@triad/contracts$': '<rootDir>/libs/contracts/src/index.ts',
    '^@triad/shared/contracts$': '<rootDir>/libs/shared/src/contracts.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{libs,services,cli}/*/src/**/*.spec.ts', '<rootDir>/cli/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.e2e.ts'],
      setupFilesAfterEnv: ['<rootDir>/e2e/support/jest-setup.ts'],
    },
  ],
  testTimeout: 30_000,
  globalSetup: '<rootDir>/test-support/redis-global-setup.js',
  globalTeardown: '<rootDir>/test-support/redis-global-teardown.js',
  reporters: ['default', '<rootDir>/test-support/summary-reporter.js'],
  // The e2e suites each start several service processes; two at a time fit a 2-core machine.
  maxWorkers: 2,
};
