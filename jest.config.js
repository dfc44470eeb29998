/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // SWC transpiles each file on its own, as ts-jest's isolated mode did but several times faster
  // (the suite's start-up was mostly transpiling); `tsc --noEmit` type-checks. Class fields follow
  // the ES2022 semantics tsc uses for this target (useDefineForClassFields).
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2022", transform: { useDefineForClassFields: true } },
        module: { type: "commonjs" },
        sourceMaps: "inline",
      },
    ],
  },
  testTimeout: 20000,
  setupFiles: ["<rootDir>/tests/setup.ts"],
  // Both cores of the CI machine (jest defaults to cores - 1).
  maxWorkers: 2,
  // A worker whose heap grew past this is replaced between test files (its resident size runs at
  // about twice its heap): no process over 1 GiB.
  workerIdleMemoryLimit: "300MB",
};
