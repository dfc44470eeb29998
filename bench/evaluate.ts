import { startProgram } from "./harness";

/**
 * Child process: one program run with argv[2] nodes and the latencies in argv[3] (JSON).
 * Prints wall time, peak RSS, heap and counts as JSON; a fresh process per run keeps the
 * memory figures honest.
 */
async function main(): Promise<void> {
  const nodeCount = Number(process.argv[2]);
  const latencyMs = JSON.parse(process.argv[3] ?? "{}") as Record<string, number>;
  const started = process.hrtime.bigint();
  const mocks = await startProgram(nodeCount, latencyMs);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const events = [...mocks.registrations, ...mocks.calls];
  // The deployment's critical path: first registration sent to last one answered.
  const pathMs = Math.max(...events.map((e) => e.completedAt ?? 0)) - Math.min(...events.map((e) => e.arrivedAt));
  process.stdout.write(
    JSON.stringify({
      ms,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      heapMb: process.memoryUsage().heapUsed / 1024 / 1024,
      registrations: mocks.registrations.length,
      invokes: mocks.calls.length,
      pathMs,
    }),
  );
}

void main();
