import fc from "fast-check";
import { ConfigError, validateConfig } from "../config/validate";

/** Anything YAML could produce where a value is expected. */
const yamlish = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

const plausibleNode = fc.record(
  {
    name: fc.oneof(fc.constantFrom("a", "b", "cp-1", "cp-2", "w-1"), yamlish),
    ip: fc.oneof(fc.constantFrom("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.256"), yamlish),
    role: fc.oneof(fc.constantFrom("controlplane", "worker"), yamlish),
    host: fc.oneof(fc.constantFrom("pve", "pve2"), yamlish),
    vmId: fc.oneof(fc.constantFrom(100, 101, "102"), yamlish),
    mac: fc.oneof(fc.constantFrom("02:00:00:00:00:01", "02:00:00:00:00:02", "01:00:00:00:00:01"), yamlish),
    cores: fc.oneof(fc.constantFrom(1, 2, "4", 0), yamlish),
    cpus: yamlish,
  },
  { requiredKeys: [] },
);

const nodeLists = fc.oneof(fc.array(fc.oneof(plausibleNode, yamlish), { maxLength: 6 }), yamlish);

describe("validateConfig on random input", () => {
  test("throws nothing but a ConfigError, and every problem names a key", () => {
    fc.assert(
      fc.property(nodeLists, fc.option(yamlish), fc.option(yamlish), (nodes, vip, cores) => {
        try {
          validateConfig({ clusterName: "lab", nodes, vip: vip ?? undefined, cores: cores ?? undefined });
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          for (const problem of err.problems) expect(problem).toMatch(/^(clusterName|vip|cores|nodes)(\[\d+\])?(\..*)?: \S/s);
        }
      }),
      { numRuns: 500, seed: 4242 },
    );
  });

  test("never accepts duplicate names, IPs, VM IDs or MACs", () => {
    fc.assert(
      fc.property(nodeLists, (nodes) => {
        let spec;
        try {
          spec = validateConfig({ clusterName: "lab", nodes }).spec;
        } catch (err) {
          if (err instanceof ConfigError) return;
          throw err;
        }
        for (const key of ["name", "ip", "mac", "vmId"] as const) {
          const values = spec.nodes.map((n) => n[key]).filter((v) => v !== undefined);
          expect(new Set(values).size).toBe(values.length);
        }
      }),
      { numRuns: 500, seed: 4243 },
    );
  });
});

describe("surprising YAML types get the same clear errors", () => {
  const ok = { clusterName: "lab", nodes: [{ name: "cp-1", ip: "10.0.0.1", role: "controlplane" }] };
  const problems = (raw: Record<string, unknown>) => {
    try {
      validateConfig(raw);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  test.each([
    ["a number as a name", { ...ok, nodes: [{ ...ok.nodes[0], name: 101 }] }, /^nodes\[0\]\.name: must be a DNS label .*, got number 101$/],
    ["a word as a number", { ...ok, cores: "eight" }, /^cores: must be a whole number of CPU cores above 0, got "eight"$/],
    ["a null node list", { ...ok, nodes: null }, /^nodes: must be a non-empty list, got null/],
    ["a null node", { ...ok, nodes: [null] }, /^nodes\[0\]: must be an object with keys name, ip, role/],
    ["a nested typo", { ...ok, nodes: [{ ...ok.nodes[0], rol: "worker" }] }, /^nodes\[0\]\.rol: unknown key; did you mean role\?/],
    ["a list as the VIP", { ...ok, vip: ["10.0.0.9"] }, /^vip: must be an IPv4 address such as 10\.0\.10\.10, got a list$/],
    ["a fraction of a core", { ...ok, cores: 1.5 }, /^cores: must be a whole number of CPU cores above 0, got number 1\.5$/],
  ])("%s", (_label, raw, message) => {
    expect(problems(raw)).toContainEqual(expect.stringMatching(message));
  });
});
