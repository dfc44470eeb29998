import { UNRECORDED_PROMISE_STACK, elidePromiseTrackingStacks } from "../program";

// The SDK's promise tracking (marked internal: not in its type declarations).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (p: Promise<unknown>, ctx: string) => Promise<unknown> };

describe("elidePromiseTrackingStacks", () => {
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
  /** The stack the SDK keeps for a tracked promise (its promise-leak report's STACK_TRACE). */
  const trackedStack = () => {
    const tracked = Promise.resolve();
    void debuggablePromise(tracked, "test");
    return (tracked as unknown as { _debugStackTrace: unknown })._debugStackTrace;
  };

  it("gives the SDK's promise-tracking stacks a constant instead of formatting them", () => {
    elidePromiseTrackingStacks();
    expect(trackedStack()).toBe(UNRECORDED_PROMISE_STACK);
  });

  it("formats every other stack with the formatter it found, so errors and source positions stay mapped", () => {
    elidePromiseTrackingStacks();
    expect(new Error("config").stack).toMatch(/^mapped \d+$/);
  });

  it("wraps the formatter once however often the program runs", () => {
    elidePromiseTrackingStacks();
    const installed = errors.prepareStackTrace;
    elidePromiseTrackingStacks();
    expect(errors.prepareStackTrace).toBe(installed);
  });

  it("changes nothing while the promise-leak report wants its stacks (PULUMI_DEBUG_PROMISE_LEAKS)", () => {
    process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
    elidePromiseTrackingStacks();
    expect(errors.prepareStackTrace).toBe(mapping);
    expect(trackedStack()).toMatch(/^mapped \d+$/);
  });

  it("changes nothing without a formatter (plain JavaScript: V8 formats)", () => {
    errors.prepareStackTrace = undefined;
    elidePromiseTrackingStacks();
    expect(errors.prepareStackTrace).toBeUndefined();
  });
});
