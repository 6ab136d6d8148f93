/**
 * Unit tests need no network; integration tests share one DynamoDB Local started by globalSetup.
 * The package project (`npm run test:package`, selected on its own) installs the packed tarball
 * into fresh folders from the npm registry, as a user would.
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
  ],
};
const esm = {
  transform,
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
};
const common = {
  ...esm,
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};

export default {
  maxWorkers: 2,
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/setup-env.js'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
    },
    {
      // No aws-cdk-lib in the test process: the consumers' own installs run the constructs.
      ...esm,
      displayName: 'package',
      testMatch: ['<rootDir>/test/package/**/*.test.ts'],
      globalSetup: '<rootDir>/test/package/support/global-setup.js',
      globalTeardown: '<rootDir>/test/package/support/global-teardown.js',
    },
  ],
};
