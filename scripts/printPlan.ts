/**
 * `npm run plan [stack]`: each node's name, role, host, VM ID, MAC, IP (with static addressing
 * also its address in CIDR form and gateway) and config hash for Pulumi.<stack>.yaml (default
 * dev), with no Proxmox and no Pulumi CLI: make the DHCP reservations before the first `pulumi up`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { formatPlan, planNodes } from "../config/nodePlan";
import { CONFIG_NAMESPACE, ConfigError, validateConfig } from "../config/validate";

const stack = process.argv[2] ?? "dev";
const file = path.join(__dirname, "..", `Pulumi.${stack}.yaml`);
const config = (YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
const prefix = `${CONFIG_NAMESPACE}:`;
const raw = Object.fromEntries(
  Object.entries(config)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, value]) => [key.slice(prefix.length), value]),
);
try {
  const { spec, warnings } = validateConfig(raw, { what: `Pulumi.${stack}.yaml` });
  for (const warning of warnings) console.warn(`warning: ${warning}`);
  console.log(formatPlan(planNodes(spec)));
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : String(err));
  process.exitCode = 1;
}
