import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

/**
 * Every pin in the repository has a path to being updated. renovate.json's custom managers are
 * applied here the way Renovate applies them (each matchString as a global regular expression over
 * the whole text of every file its managerFilePatterns select, outside ignorePaths), and:
 * (a) every marker comment is read by a manager, with a current value;
 * (b) each known pin is found, with the value the program really uses;
 * (c) a scan for version-looking pins (release URLs, image tags, version constants and keys) finds
 *     none that no manager reads;
 * and CI runs exactly the README's install and test commands.
 */

const ROOT = path.join(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

interface CustomManager {
  customType: string;
  description?: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate?: string;
  depNameTemplate?: string;
  extractVersionTemplate?: string;
}
interface RenovateConfig {
  $schema: string;
  enabledManagers: string[];
  ignorePaths: string[];
  packageRules: { matchManagers?: string[]; rangeStrategy?: string }[];
  customManagers: CustomManager[];
}
const config = JSON.parse(read("renovate.json")) as RenovateConfig;

/** A dependency as a custom manager extracts it: fields from templates, else from named groups. */
interface Dep {
  manager: number;
  file: string;
  /** match[0]: the text Renovate rewrites (replaceString). */
  text: string;
  start: number;
  valueStart: number;
  currentValue: string;
  datasource?: string;
  depName?: string;
  extractVersion?: string;
  registryUrl?: string;
}

// Named groups Renovate's regex manager reads (lib/modules/manager/custom/regex/utils.ts).
const MATCH_FIELDS = [
  "depName", "packageName", "currentValue", "currentDigest", "datasource", "versioning",
  "extractVersion", "registryUrl", "depType", "indentation",
];

/** Minimatch-style glob (`**`, `*`, `?`) as a RegExp over a repository-relative path. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (glob.startsWith("**/", i)) {
      re += "(?:.*/)?";
      i += 2;
    } else if (glob.startsWith("/**", i) && i + 3 === glob.length) {
      re += "(?:/.*)?";
      i += 2;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Renovate's file patterns: `/regex/flags`, else a glob. */
function filePattern(pattern: string): RegExp {
  const m = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  return m ? new RegExp(m[1], m[2]) : globToRegExp(pattern);
}

const ignored = config.ignorePaths.map(globToRegExp);
const isIgnored = (file: string) => ignored.some((re) => re.test(file));

/** Repository files as Renovate sees them: everything but git's and the ignored (built, installed: git-ignored, so Renovate never sees them). */
function listFiles(dir = ""): string[] {
  const skip = new Set([".git", "node_modules", "bin", "dist", "coverage"]);
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (skip.has(entry.name)) return [];
    return entry.isDirectory() ? listFiles(rel) : [rel];
  });
}
const FILES = listFiles().filter((f) => !isIgnored(f));

/** A matchString as Renovate compiles it (`regEx(matchString, 'g')`), plus `d` for capture offsets. */
function compile(matchString: string): RegExp {
  return new RegExp(matchString, "gd");
}

function extract(managers: CustomManager[], files: Record<string, string>): Dep[] {
  const deps: Dep[] = [];
  managers.forEach((manager, index) => {
    const patterns = manager.managerFilePatterns.map(filePattern);
    for (const [file, content] of Object.entries(files)) {
      if (!patterns.some((re) => re.test(file))) continue;
      for (const matchString of manager.matchStrings) {
        for (const m of content.matchAll(compile(matchString))) {
          const g = m.groups ?? {};
          deps.push({
            manager: index,
            file,
            text: m[0],
            start: m.index ?? 0,
            valueStart: m.indices?.groups?.currentValue?.[0] ?? -1,
            currentValue: g.currentValue ?? "",
            datasource: manager.datasourceTemplate ?? g.datasource,
            depName: manager.depNameTemplate ?? g.depName,
            extractVersion: manager.extractVersionTemplate ?? g.extractVersion,
            registryUrl: g.registryUrl,
          });
        }
      }
    }
  });
  return deps;
}

const CONTENT: Record<string, string> = Object.fromEntries(FILES.map((f) => [f, read(f)]));
const DEPS = extract(config.customManagers, CONTENT);
const lineOf = (content: string, index: number) => content.slice(0, index).split("\n").length;

const MARKER = /(?:#|\/\/)[ \t]*renovate:/;

/** Files that can hold a marker: all but documentation and Renovate's own config. */
const markerFiles = (files: Record<string, string>) =>
  Object.keys(files).filter((f) => !/\.md$/i.test(f) && f !== "renovate.json");

/** Marker comments no manager reads (file:line). */
function unreadMarkers(files: Record<string, string>, deps: Dep[]): string[] {
  const unread: string[] = [];
  for (const file of markerFiles(files)) {
    files[file].split("\n").forEach((line, i) => {
      if (!MARKER.test(line)) return;
      const read = deps.some(
        (d) => d.file === file && lineOf(files[file], d.start) === i + 1 && d.currentValue !== "",
      );
      if (!read) unread.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return unread;
}

// (c): what a pin looks like. Comment lines are prose (and markers), not pins.
const VERSION = String.raw`v?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.-]+)?`;
const IMAGE = String.raw`(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:${VERSION}(?:@sha256:[a-f0-9]{64})?`;
const PIN_RULES: { name: string; files: RegExp; re: RegExp }[] = [
  {
    name: "release URL",
    files: /./,
    re: /https?:\/\/(?:raw\.githubusercontent\.com|objects\.githubusercontent\.com|github\.com\/[^/\s]+\/[^/\s]+\/(?:releases\/download|raw))\/[^\s"'`)]+/g,
  },
  {
    name: "image reference",
    files: /\.(?:[cm]?[jt]s|ya?ml|json)$/,
    re: new RegExp(String.raw`(?<=["'\x60]|image:[ \t]*)${IMAGE}(?=["'\x60]|[ \t]*$)`, "gm"),
  },
  {
    name: "version constant",
    files: /\.[cm]?[jt]s$/,
    re: new RegExp(String.raw`(?:(?:const|let|var)\s+\w+(?:\s*:\s*[\w.<>| ]+)?\s*=|\bversion\s*:)\s*["'\x60]${VERSION}["'\x60]`, "gi"),
  },
  {
    name: "version key",
    files: /\.(?:ya?ml|json)$/,
    re: new RegExp(String.raw`["']?[\w-]*(?:version|tag|revision)["']?[ \t]*:[ \t]*["']?${VERSION}["']?[ \t,]*$`, "gim"),
  },
];
const isCommentLine = (line: string) => /^\s*(?:#|\/\/|\/\*|\*)/.test(line);
/** A version that is no pin (a threshold, an example) says so: `// not-a-pin: why`, on its line or the one above. */
const NOT_A_PIN = /(?:#|\/\/)[ \t]*not-a-pin\b/;

/**
 * `with:` inputs that Renovate's github-actions manager reads itself (its known actions, in
 * lib/modules/manager/github-actions/known-actions): a marker there would make a second dependency.
 */
const NATIVE_INPUTS: Record<string, string> = {
  "actions/setup-node": "node-version",
  "pulumi/actions": "pulumi-version",
};

/** Line numbers of workflow inputs the github-actions manager reads. */
function nativeLines(file: string, content: string): Set<number> {
  const lines = new Set<number>();
  if (!/^\.github\/workflows\/[^/]+\.ya?ml$/.test(file)) return lines;
  const doc = YAML.parseDocument(content);
  const jobs = doc.get("jobs") as YAML.YAMLMap<unknown, YAML.YAMLMap> | undefined;
  for (const job of jobs?.items ?? []) {
    const steps = job.value?.get("steps") as YAML.YAMLSeq<YAML.YAMLMap> | undefined;
    for (const step of steps?.items ?? []) {
      const input = NATIVE_INPUTS[String(step.get("uses") ?? "").split("@")[0]];
      const node = input ? (step.get("with") as YAML.YAMLMap | undefined)?.get(input, true) : undefined;
      if (YAML.isScalar(node) && node.range) lines.add(lineOf(content, node.range[0]));
    }
  }
  return lines;
}

/** Pins (file:line: text) whose value no custom manager captures. */
function uncoveredPins(files: Record<string, string>, deps: Dep[]): string[] {
  const uncovered: string[] = [];
  for (const [file, content] of Object.entries(files)) {
    // Not scanned: the root package.json (the npm manager reads its dependencies; its own version
    // is no pin), the generated lock file, Renovate's config and documentation.
    if (/^(?:package(?:-lock)?\.json|renovate\.json)$/.test(file) || /\.md$/i.test(file)) continue;
    const native = nativeLines(file, content);
    const lines = content.split("\n");
    for (const rule of PIN_RULES) {
      if (!rule.files.test(file)) continue;
      for (const m of content.matchAll(rule.re)) {
        const start = m.index ?? 0;
        const end = start + m[0].length;
        const at = lineOf(content, start);
        const [above, line] = [lines[at - 2] ?? "", lines[at - 1]];
        if (isCommentLine(line) || native.has(at) || NOT_A_PIN.test(line)) continue;
        if (isCommentLine(above) && NOT_A_PIN.test(above)) continue;
        const covered = deps.some((d) => d.file === file && d.valueStart >= start && d.valueStart < end);
        if (!covered) uncovered.push(`${file}:${lineOf(content, start)}: ${rule.name} ${m[0]}`);
      }
    }
  }
  return uncovered;
}

describe("renovate.json", () => {
  test("has the shape Renovate validates: schema, managers, exact npm versions", () => {
    expect(config.$schema).toBe("https://docs.renovatebot.com/renovate-schema.json");
    expect([...config.enabledManagers].sort()).toEqual(["custom.regex", "github-actions", "npm"]);
    expect(config.packageRules).toContainEqual(expect.objectContaining({ matchManagers: ["npm"], rangeStrategy: "pin" }));
    expect(config.customManagers.length).toBeGreaterThan(0);
    for (const manager of config.customManagers) {
      expect(manager.customType).toBe("regex");
      expect(manager.managerFilePatterns.length).toBeGreaterThan(0);
      for (const pattern of manager.managerFilePatterns) expect(() => filePattern(pattern)).not.toThrow();
    }
  });

  test("matchStrings are RE2 regular expressions whose named groups Renovate reads", () => {
    for (const matchString of config.customManagers.flatMap((m) => m.matchStrings)) {
      // RE2 (Renovate's engine) has no lookaround, backreferences or atomic groups; the `u` flag
      // rejects the loose escapes that only non-unicode JavaScript accepts.
      expect([matchString, /\(\?<?[=!]|\(\?>|\\k<|\\[1-9]/.test(matchString)]).toEqual([matchString, false]);
      expect(() => new RegExp(matchString, "u")).not.toThrow();
      const groups = [...matchString.matchAll(/\(\?<([A-Za-z]\w*)>/g)].map((g) => g[1]);
      expect(groups).toContain("currentValue");
      for (const group of groups) expect(MATCH_FIELDS).toContain(group);
    }
  });

  test("every dependency found has a datasource, a name and a value Renovate can replace in place", () => {
    expect(DEPS.length).toBeGreaterThan(0);
    for (const dep of DEPS) {
      const where = `${dep.file}:${lineOf(CONTENT[dep.file], dep.start)}`;
      // One manager per pin: none on an input the github-actions manager already reads.
      const native = nativeLines(dep.file, CONTENT[dep.file]).has(lineOf(CONTENT[dep.file], dep.valueStart));
      expect([where, native]).toEqual([where, false]);
      expect([where, !!dep.datasource, !!dep.depName, dep.currentValue !== ""]).toEqual([where, true, true, true]);
      // Renovate finds the matched text (replaceString) by its first occurrence in the file and
      // rewrites every occurrence of the current value within it (autoReplaceGlobalMatch): the text
      // must be unique in the file and hold the value once, at the captured place (not, say, in the
      // marker line above it).
      expect([where, CONTENT[dep.file].indexOf(dep.text)]).toEqual([where, dep.start]);
      expect([where, dep.text.split(dep.currentValue).length - 1]).toEqual([where, 1]);
      expect([where, dep.start + dep.text.indexOf(dep.currentValue)]).toEqual([where, dep.valueStart]);
      if (dep.registryUrl !== undefined) expect(() => new URL(dep.registryUrl as string)).not.toThrow();
    }
  });

  test("(a) every marker comment in the repository is read by a manager, with a current value", () => {
    expect(unreadMarkers(CONTENT, DEPS)).toEqual([]);
    const markers = markerFiles(CONTENT).flatMap((f) => CONTENT[f].split("\n").filter((l) => MARKER.test(l)));
    expect(markers.length).toBeGreaterThanOrEqual(4);
  });

  test("(b) each known pin is found, on the line that sets the value the program uses", () => {
    const depsOf = (depName: string) => DEPS.filter((d) => d.depName === depName);
    /** The source line holding a dependency's value. */
    const valueLine = (d: Dep) => {
      const content = CONTENT[d.file];
      const end = content.indexOf("\n", d.valueStart);
      return content.slice(content.lastIndexOf("\n", d.valueStart) + 1, end === -1 ? undefined : end).trim();
    };
    const shape = (d: Dep) => ({ datasource: d.datasource, extractVersion: d.extractVersion });
    const SEMVER = /^\d+\.\d+\.\d+$/;

    // Default Talos version, wherever the constant lives.
    const [talos, ...moreTalos] = depsOf("siderolabs/talos");
    expect([shape(talos), moreTalos]).toEqual([{ datasource: "github-releases", extractVersion: undefined }, []]);
    expect(talos.currentValue).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(valueLine(talos)).toBe(`export const DEFAULT_TALOS_VERSION = "${talos.currentValue}";`);

    // Default NGINX image: the tag of nginx:<tag>.
    const [nginx, ...moreNginx] = depsOf("nginx");
    expect([shape(nginx), moreNginx]).toEqual([{ datasource: "docker", extractVersion: undefined }, []]);
    expect(nginx.currentValue).toMatch(SEMVER);
    expect(valueLine(nginx)).toBe(`export const DEFAULT_NGINX_IMAGE = "nginx:${nginx.currentValue}";`);

    // The serving-cert approver manifest: the tag inside the URL the patch installs.
    const [approver, ...moreApprover] = depsOf("alex1989hu/kubelet-serving-cert-approver");
    expect([approver.file, shape(approver), moreApprover]).toEqual([
      "patches/kubelet-serving-cert-approver.yaml",
      { datasource: "github-tags", extractVersion: undefined },
      [],
    ]);
    expect(approver.currentValue).toMatch(/^v\d+\.\d+\.\d+$/);
    const url =
      "https://raw.githubusercontent.com/alex1989hu/kubelet-serving-cert-approver/" +
      `${approver.currentValue}/deploy/standalone-install.yaml`;
    const patch = YAML.parse(CONTENT[approver.file]) as { cluster: { extraManifests: string[] } };
    expect(patch.cluster.extraManifests).toEqual([url]);

    // The Talos provider plugin: one version in plugin.ts, both fields of the declaration package
    // and its entry in the lock file.
    const declaration = JSON.parse(read("sdk/talos/package.json")) as { version: string; pulumi: { version: string } };
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { version: string }> };
    const plugin = declaration.pulumi.version;
    expect(plugin).toMatch(SEMVER);
    expect([declaration.version, lock.packages["sdk/talos"].version]).toEqual([plugin, plugin]);
    const pluginDeps = depsOf("pulumiverse/pulumi-talos").sort(
      (x, y) => x.file.localeCompare(y.file) || x.start - y.start,
    );
    expect(pluginDeps.map((d) => [d.file, d.currentValue, d.datasource, d.extractVersion])).toEqual(
      ["package-lock.json", "sdk/talos/package.json", "sdk/talos/package.json", "sdk/talos/plugin.ts"].map((f) => [
        f,
        plugin,
        "github-releases",
        "^v(?<version>.+)$",
      ]),
    );
    expect(valueLine(pluginDeps[3])).toBe(`export const PLUGIN_VERSION = "${plugin}";`);

    // The Pulumi CLI the preview job installs: read by the github-actions manager, not by a marker.
    const cli = workflowSteps("preview").find((s) => s.uses?.startsWith("pulumi/actions@"))?.with?.["pulumi-version"];
    expect(cli).toMatch(SEMVER);
    const ci = ".github/workflows/ci.yml";
    const cliLine = CONTENT[ci].split("\n").findIndex((l) => l.trim() === `pulumi-version: ${cli}`) + 1;
    expect([cliLine > 0, nativeLines(ci, CONTENT[ci]).has(cliLine)]).toEqual([true, true]);
    expect(DEPS.filter((d) => d.file === ci)).toEqual([]);

    // Pins that come later need only their marker; a default Kubernetes version, once it exists:
    for (const [file, content] of Object.entries(CONTENT).filter(([f]) => f.endsWith(".ts"))) {
      const at = content.search(/\bDEFAULT_KUBERNETES_VERSION\s*=\s*["']/);
      if (at === -1) continue;
      const line = lineOf(content, at);
      const dep = depsOf("kubernetes/kubernetes").find((d) => d.file === file && lineOf(content, d.valueStart) === line);
      expect([file, dep?.datasource]).toEqual([file, "github-releases"]);
    }
  });

  test("(c) no version-looking pin in the repository is out of the managers' reach", () => {
    expect(uncoveredPins(CONTENT, DEPS)).toEqual([]);
  });
});

describe("the update rules themselves", () => {
  // Fixtures, not repository files: what a new pin looks like before and after its marker.
  const withoutMarkers: Record<string, string> = {
    "components/cilium.ts": 'export const CILIUM_CHART_VERSION = "1.18.2";\n',
    "components/k8s.ts": 'export const DEFAULT_KUBERNETES_VERSION = "1.34.1";\n',
    "patches/cni-canal.yaml":
      "cluster:\n  network:\n    cni:\n      urls:\n        - https://raw.githubusercontent.com/projectcalico/calico/v3.30.3/manifests/canal.yaml\n",
    "components/app.ts": 'const image: string = "ghcr.io/stefanprodan/podinfo:6.9.2";\n',
    "patches/pod.yaml": "spec:\n  containers:\n    - name: x\n      image: ghcr.io/stefanprodan/podinfo:6.9.2@sha256:" + "a".repeat(64) + "\n",
    ".github/workflows/x.yml":
      "jobs:\n  x:\n    steps:\n      - uses: pulumi/actions@v7\n        with:\n          pulumi-version: 3.248.0\n" +
      "      - uses: example/setup-tool@v1\n        with:\n          tool-version: 2.4.1\n",
    "sdk/talos/package.json": '{\n  "pulumi": {\n    "name": "talos",\n    "version": "0.9.0"\n  }\n}\n',
  };
  const markers: Record<string, string> = {
    "components/cilium.ts": "// renovate: datasource=helm depName=cilium registryUrl=https://helm.cilium.io\n",
    "components/k8s.ts":
      "// renovate: datasource=github-releases depName=kubernetes/kubernetes extractVersion=^v(?<version>.+)$\n",
    "components/app.ts": "// renovate: datasource=docker depName=ghcr.io/stefanprodan/podinfo\n",
  };
  const withMarkers: Record<string, string> = {
    ...withoutMarkers,
    ...Object.fromEntries(Object.entries(markers).map(([f, m]) => [f, m + withoutMarkers[f]])),
    "patches/cni-canal.yaml": withoutMarkers["patches/cni-canal.yaml"].replace(
      "        - https",
      "        # renovate: datasource=github-tags depName=projectcalico/calico\n        - https",
    ),
    "patches/pod.yaml": withoutMarkers["patches/pod.yaml"].replace(
      "      image:",
      "      # renovate: datasource=docker depName=ghcr.io/stefanprodan/podinfo\n      image:",
    ),
    ".github/workflows/x.yml": withoutMarkers[".github/workflows/x.yml"].replace(
      "          tool-version",
      "          # renovate: datasource=github-releases depName=example/tool\n          tool-version",
    ),
  };

  test("the scan finds each kind of pin that has no marker", () => {
    const found = uncoveredPins(withoutMarkers, extract(config.customManagers, withoutMarkers)).map((u) =>
      u.replace(/:\d+: .*/, ""),
    );
    // Not found: pulumi/actions' pulumi-version (the github-actions manager reads it) and the
    // sdk/talos declaration (read by its own manager, without a marker).
    expect(found.sort()).toEqual(
      [
        ".github/workflows/x.yml",
        "components/app.ts",
        "components/cilium.ts",
        "components/k8s.ts",
        "patches/cni-canal.yaml",
        "patches/pod.yaml",
      ].sort(),
    );
  });

  test("adding a marker comment is all a new pin needs", () => {
    const deps = extract(config.customManagers, withMarkers);
    expect(uncoveredPins(withMarkers, deps)).toEqual([]);
    expect(unreadMarkers(withMarkers, deps)).toEqual([]);
    const byFile = Object.fromEntries(deps.map((d) => [d.file, d]));
    expect(byFile["components/cilium.ts"]).toMatchObject({
      datasource: "helm",
      depName: "cilium",
      registryUrl: "https://helm.cilium.io",
      currentValue: "1.18.2",
    });
    expect(byFile["components/k8s.ts"]).toMatchObject({
      depName: "kubernetes/kubernetes",
      extractVersion: "^v(?<version>.+)$",
      currentValue: "1.34.1",
    });
    expect(byFile["patches/cni-canal.yaml"]).toMatchObject({ depName: "projectcalico/calico", currentValue: "v3.30.3" });
    expect(byFile["components/app.ts"]).toMatchObject({ datasource: "docker", currentValue: "6.9.2" });
    expect(byFile["patches/pod.yaml"]).toMatchObject({ datasource: "docker", currentValue: "6.9.2" });
    expect(byFile[".github/workflows/x.yml"]).toMatchObject({ depName: "example/tool", currentValue: "2.4.1" });
  });

  test("a version that is no pin says so and is not reported", () => {
    const files = {
      "talosapi/versions.ts":
        "// not-a-pin: the first Talos version with LifecycleService\n" +
        'export const LIFECYCLE_API_SINCE = "v1.13.0-alpha.3";\n' +
        'export const OTHER_SINCE = "v1.12.0"; // not-a-pin: a threshold too\n' +
        'export const MINIMUM_TALOS = "v1.12.0";\n',
    };
    expect(uncoveredPins(files, extract(config.customManagers, files))).toEqual([
      'talosapi/versions.ts:4: version constant const MINIMUM_TALOS = "v1.12.0"',
    ]);
  });

  test("a marker that no manager can read is reported", () => {
    const files = {
      "components/typo.ts": '// renovate: datasource=docker depname=nginx\nexport const X = "nginx:1.28.0";\n',
      "components/nothing.ts": "// renovate: datasource=docker depName=nginx\nexport const X = \"nginx:latest\";\n",
      "scripts/setup.sh": "# renovate: datasource=github-releases depName=siderolabs/talos\nTALOS=v1.13.9\n",
    };
    expect(unreadMarkers(files, extract(config.customManagers, files)).map((u) => u.split(":")[0]).sort()).toEqual(
      ["components/nothing.ts", "components/typo.ts", "scripts/setup.sh"],
    );
  });
});

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  "runs-on": string;
  needs?: string;
  steps: Step[];
}
const workflow = YAML.parse(read(".github/workflows/ci.yml")) as {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
};
function workflowSteps(job: string): Step[] {
  return workflow.jobs[job].steps;
}

describe(".github/workflows/ci.yml", () => {
  test("runs exactly the README's install and test commands on push and pull request, with Node 20", () => {
    const readme = read("README.md");
    const quickstart = readme.match(/Install and test[^\n]*\n\n```sh\n([\s\S]*?)```/)?.[1].trim().split("\n");
    expect(quickstart).toEqual(["npm ci", "npm test"]);
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);

    const test = workflow.jobs.test;
    expect(test["runs-on"]).toMatch(/^ubuntu-/);
    expect(test.steps.filter((s) => s.run !== undefined).map((s) => s.run?.trim())).toEqual(quickstart);
    const node = test.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(node?.with).toMatchObject({ "node-version": "20", cache: "npm" });
  });

  test("pins every action to a release tag or commit and keeps secrets out of scripts", () => {
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    for (const uses of steps.flatMap((s) => (s.uses ? [s.uses] : []))) {
      expect(uses).toMatch(/^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40})$/);
    }
    // A secret reaches a step only through `env`, never expanded into a script or an output.
    for (const run of steps.flatMap((s) => (s.run ? [s.run] : []))) expect(run).not.toMatch(/secrets\./);
    // GitHub rejects `secrets` in a job-level `if`.
    for (const job of Object.values(workflow.jobs)) expect(job.if ?? "").not.toMatch(/secrets\./);
  });

  test("previews a stack only for this repository's own branches and only when the credentials are set", () => {
    const preview = workflow.jobs.preview;
    expect(preview.needs).toBe("test");
    expect(preview.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    const [gate, ...rest] = preview.steps;
    // The gate sees only whether each secret is set.
    expect(Object.values(gate.env ?? {}).every((v) => /^\$\{\{ secrets\.\w+ != '' \}\}$/.test(v))).toBe(true);
    expect(Object.values(gate.env ?? {}).join()).toContain("secrets.PROXMOX_VE_ENDPOINT");
    expect(gate.run).toContain('echo "enabled=true" >> "$GITHUB_OUTPUT"');
    for (const step of rest) expect(step.if).toBe(`steps.${gate.id}.outputs.enabled == 'true'`);

    const pulumi = rest.find((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(pulumi?.with).toMatchObject({ command: "preview", "stack-name": "${{ vars.PULUMI_STACK || 'dev' }}" });
    expect(pulumi?.env).toMatchObject({
      PROXMOX_VE_ENDPOINT: "${{ secrets.PROXMOX_VE_ENDPOINT }}",
      PROXMOX_VE_API_TOKEN: "${{ secrets.PROXMOX_VE_API_TOKEN }}",
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
    });
  });
});
