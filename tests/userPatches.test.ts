import { checkMergedConfig, describeProblem, mergePatches, resolvePatches } from "../config/userPatches";

const files: Record<string, string> = {
  "patches/kubelet.yaml": "machine:\n  kubelet:\n    extraArgs:\n      max-pods: '250'\n",
  "patches/typo.yaml": "machine:\n  kubelet:\n    extraMount: []\n",
};
const readFile = (file: string) => {
  if (file in files) return files[file];
  throw Object.assign(new Error(`ENOENT: no such file, open '${file}'`), { code: "ENOENT" });
};

describe("resolvePatches: the user's patches, read and checked one by one", () => {
  test("YAML text is kept as written; @<path> is read from the file and remembers it", () => {
    const found = resolvePatches("patches", ["machine:\n  sysctls:\n    vm.nr_hugepages: '64'\n", "@patches/kubelet.yaml"], readFile);
    expect(found.problems).toEqual([]);
    expect(found.patches).toEqual([
      { source: "patches[0]", file: undefined, text: "machine:\n  sysctls:\n    vm.nr_hugepages: '64'\n" },
      { source: "patches[1]", file: "patches/kubelet.yaml", text: files["patches/kubelet.yaml"] },
    ]);
  });

  test("an unreadable file is named with its key and how to fix the path", () => {
    const found = resolvePatches("worker.patches", ["@patches/missing.yaml"], readFile);
    expect(found.problems).toEqual([
      "worker.patches[0]: cannot read patches/missing.yaml (ENOENT): give a file path relative to the project directory, e.g. @patches/longhorn.yaml",
    ]);
    expect(found.patches).toEqual([]);
  });

  test("an unknown field names the key, the file, the document and the field, with a suggestion", () => {
    const found = resolvePatches("nodes[2].patches", ["@patches/typo.yaml"], readFile);
    expect(found.problems).toEqual([expect.stringMatching(/^nodes\[2\]\.patches\[0\] \(patches\/typo\.yaml\): document 0, machine\.kubelet\.extraMount: unknown key; did you mean extraMounts\?/)]);
  });

  test("a wrong type in a multi-document patch names the document", () => {
    const text = "machine:\n  install:\n    wipe: false\n---\napiVersion: v1alpha1\nkind: TimeSyncConfig\nbootTimeout: soon\n";
    const found = resolvePatches("controlPlane.patches", [text], readFile);
    expect(found.problems).toEqual([expect.stringMatching(/^controlPlane\.patches\[0\]: document 1, bootTimeout: must be a duration such as 30s, 5m or 1h30m, got "soon"/)]);
  });

  test("YAML syntax errors are reported, not thrown", () => {
    const found = resolvePatches("patches", ["machine: [unclosed"], readFile);
    expect(found.problems).toEqual([expect.stringMatching(/^patches\[0\]: document 0: YAML syntax error/)]);
  });

  test("a value under a credential-like field is never echoed in a message", () => {
    const problem = { document: 0, path: "machine.registries.config[\"ghcr.io\"].auth.password", message: 'must be one of a, b, got "hunter2"' };
    expect(describeProblem("patches[0]", problem)).toBe(
      'patches[0]: document 0, machine.registries.config["ghcr.io"].auth.password: must be one of a, b (value not shown)',
    );
    expect(describeProblem("patches[0]", { ...problem, path: "machine.install.disk" })).toContain('"hunter2"');
  });

  test("a JSON patch is accepted with the warning that it fails on a multi-document config", () => {
    const found = resolvePatches("patches", ["- op: add\n  path: /machine/sysctls\n  value: {}\n"], readFile);
    expect(found.problems).toEqual([]);
    expect(found.warnings).toEqual([expect.stringMatching(/^patches\[0\]: document 0: a JSON patch applies only/)]);
  });
});

describe("mergePatches: Talos's strategic merge, as far as validation needs it", () => {
  test("mappings merge, lists append, scalars replace, later wins", () => {
    const docs = mergePatches([
      "machine:\n  kubelet:\n    extraArgs: {a: '1'}\n    extraMounts: [{destination: /a}]\n",
      "machine:\n  kubelet:\n    extraArgs: {a: '2', b: '3'}\n    extraMounts: [{destination: /b}]\n",
    ]);
    expect(docs.get("v1alpha1 config")).toEqual({
      machine: { kubelet: { extraArgs: { a: "2", b: "3" }, extraMounts: [{ destination: "/a" }, { destination: "/b" }] } },
    });
  });

  test("documents merge by kind and name; $patch: delete removes a mapping", () => {
    const docs = mergePatches([
      "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\nprovisioning: {minSize: 10GiB}\n---\nmachine: {sysctls: {a: '1'}}\n",
      "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\nprovisioning: {maxSize: 50GiB}\n---\nmachine: {sysctls: {$patch: delete}}\n",
    ]);
    expect(docs.get("UserVolumeConfig data")).toMatchObject({ provisioning: { minSize: "10GiB", maxSize: "50GiB" } });
    expect(docs.get("v1alpha1 config")).toEqual({ machine: {} });
  });
});

describe("checkMergedConfig: what only shows once the patches are together", () => {
  const resolver = "apiVersion: v1alpha1\nkind: ResolverConfig\nnameservers: [{address: 1.1.1.1}]\n";
  test("legacy nameservers next to a ResolverConfig document are refused, as Talos refuses them", () => {
    const problems = checkMergedConfig("nodes[0] (cp-1)", [resolver, "machine:\n  network:\n    nameservers: [9.9.9.9]\n"]);
    expect(problems).toEqual([expect.stringMatching(/^nodes\[0\] \(cp-1\): merged config: machine\.network\.nameservers is set next to a ResolverConfig document/)]);
  });

  test("a static hostname in the v1alpha1 config conflicts with the program's HostnameConfig", () => {
    const hostname = "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: \"off\"\nhostname: cp-1\n";
    const problems = checkMergedConfig("nodes[0] (cp-1)", [hostname, "machine:\n  network:\n    hostname: other\n"]);
    expect(problems).toEqual([expect.stringMatching(/machine\.network\.hostname is set next to a HostnameConfig document/)]);
  });

  test("time sync left enabled (disabled: false) next to a TimeSyncConfig is no conflict; only disabling it is", () => {
    const problems = checkMergedConfig("nodes[0] (cp-1)", [
      "apiVersion: v1alpha1\nkind: TimeSyncConfig\nntp: {servers: [time.cloudflare.com]}\n",
      "machine:\n  time:\n    disabled: false\n",
    ]);
    expect(problems).toEqual([]);
    expect(
      checkMergedConfig("nodes[0] (cp-1)", ["apiVersion: v1alpha1\nkind: TimeSyncConfig\nntp: {servers: [a.example]}\n", "machine: {time: {disabled: true}}\n"]),
    ).toEqual([expect.stringMatching(/machine\.time\.disabled is set next to a TimeSyncConfig document/)]);
  });
});
