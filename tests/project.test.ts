import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { NODE_KEYS, TOP_LEVEL_KEYS } from "../config/schema";
import { ROOT } from "./helpers/program";
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const readme = read("README.md");

describe("the project's promises stay true", () => {
  test("every config key is in the README's configuration tables", () => {
    for (const key of [...TOP_LEVEL_KEYS, ...NODE_KEYS]) {
      expect([key, readme.includes(`| \`${key}\``) || readme.includes(`\`${key}\`, `)]).toEqual([key, true]);
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

  test("no stack file holds a credential", () => {
    for (const file of fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
      const config = (YAML.parse(read(file)) as { config: Record<string, unknown> }).config;
      for (const key of Object.keys(config)) expect(key).not.toMatch(/apiToken|password|secret/i);
    }
  });
});
