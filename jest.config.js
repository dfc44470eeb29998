/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // ts-jest transpiles each file on its own (tsconfig isolatedModules); `tsc --noEmit` type-checks.
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 20000,
  setupFiles: ["<rootDir>/tests/setup.ts"],
  // Both cores of the CI machine (jest defaults to cores - 1).
  maxWorkers: 2,
};
