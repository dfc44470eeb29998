import { withPlainPromiseStacks } from "../program";

describe("withPlainPromiseStacks", () => {
  const errors = Error as { prepareStackTrace?: unknown };
  const mapping = (_error: Error, frames: unknown[]) => `mapped ${frames.length}`;
  let saved: unknown;
  beforeEach(() => {
    saved = errors.prepareStackTrace;
    errors.prepareStackTrace = mapping;
  });
  afterEach(() => {
    errors.prepareStackTrace = saved;
    delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
  });

  it("formats stacks read while building with V8's own format, and restores the mapping after", () => {
    const readInside = withPlainPromiseStacks(() => new Error("inside").stack);
    expect(readInside).toMatch(/^Error: inside\n\s+at /);
    expect(errors.prepareStackTrace).toBe(mapping);
  });

  it("leaves an error's stack to be mapped when it is read after the build", () => {
    const error = withPlainPromiseStacks(() => new Error("later"));
    expect(error.stack).toMatch(/^mapped \d+$/);
  });

  it("restores the mapping when the build throws", () => {
    expect(() =>
      withPlainPromiseStacks(() => {
        throw new Error("config");
      }),
    ).toThrow("config");
    expect(errors.prepareStackTrace).toBe(mapping);
  });

  it("changes nothing while the promise-leak report wants its stacks (PULUMI_DEBUG_PROMISE_LEAKS)", () => {
    process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
    expect(withPlainPromiseStacks(() => new Error("leak").stack)).toMatch(/^mapped \d+$/);
  });
});
