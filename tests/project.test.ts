import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { NODE_KEYS, TOP_LEVEL_KEYS } from "../config/schema";
import { ROOT } from "./helpers/program";
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const readme = read("README.md");

describe("the project's promises stay true", () => {
  test("every config key is in the configuration reference's tables", () => {
    const reference = read("docs/configuration.md");
    for (const key of [...TOP_LEVEL_KEYS, ...NODE_KEYS]) {
      expect([key, reference.includes(`| \`${key}\``) || reference.includes(`\`${key}\`, `)]).toEqual([key, true]);
    }
  });

  test(".ci/run runs exactly the README's install and test commands", () => {
    const quickstart = readme.match(/Install and test[^\n]*\n\n```sh\n([\s\S]*?)```/)?.[1].trim().split("\n");
    expect(quickstart).toEqual(["npm ci", "npm test"]);
    const ci = read(".ci/run")
      .split("\n")
      .filter((l) => /^npm /.test(l));
    expect(ci).toEqual(quickstart);
  });

  test("the README is a user's page: at most 200 lines, the plan before the first pulumi up, every docs link resolves", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(200);
    const quickstart = readme.slice(readme.indexOf("## Quickstart"));
    const order = ["npm ci", "Pulumi.dev.yaml", "npm run plan", "pulumi up", "--show-secrets kubeconfig", "nginxUrl", "pulumi destroy"].map((s) => quickstart.indexOf(s));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const links = [...readme.matchAll(/\]\(((?:docs\/)?[\w.-]+\.md|LICENSE)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect([link, fs.existsSync(path.join(ROOT, link))]).toEqual([link, true]);
  });

  test("no stack file holds a credential", () => {
    for (const file of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
      const config = (YAML.parse(read(file)) as { config: Record<string, unknown> }).config;
      for (const key of Object.keys(config)) expect(key).not.toMatch(/apiToken|password|secret/i);
    }
  });
});
