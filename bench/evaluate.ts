import type { RecordingMocks } from "../testkit/mocks";

/**
 * Child process: one program run with argv[2] nodes (or "empty": an empty Pulumi program, the
 * baseline) and the latencies in argv[3] (JSON). Prints wall time, peak RSS, heap and counts as
 * JSON; a fresh process per run keeps the memory figures honest.
 */
async function run(nodes: string, latencyMs: Record<string, number>): Promise<RecordingMocks> {
  // Loaded here (module commonjs: a require), so the empty baseline never loads our program's modules.
  if (nodes === "empty") return (await import("./emptyProgram")).startEmptyProgram();
  return (await import("./harness")).startProgram(Number(nodes), latencyMs);
}

async function main(): Promise<void> {
  const latencyMs = JSON.parse(process.argv[3] ?? "{}") as Record<string, number>;
  const started = process.hrtime.bigint();
  const mocks = await run(process.argv[2], latencyMs);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // performance.now() counts from this process's start: start-up, transpiling, loading and running.
  const processMs = performance.now();
  const events = [...mocks.registrations, ...mocks.calls];
  // The deployment's critical path: first registration sent to last one answered.
  const pathMs = events.length
    ? Math.max(...events.map((e) => e.completedAt ?? 0)) - Math.min(...events.map((e) => e.arrivedAt))
    : 0;
  process.stdout.write(
    JSON.stringify({
      ms,
      processMs,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      heapMb: process.memoryUsage().heapUsed / 1024 / 1024,
      registrations: mocks.registrations.length,
      invokes: mocks.calls.length,
      pathMs,
    }),
  );
}

void main();
