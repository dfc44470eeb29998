import * as YAML from "yaml";
import { TalosImage, TalosImageArgs, isoFileName } from "../components/talosImage";
import { RecordingMocks, settle, unwrap, useMocks, valueOf } from "../testkit/mocks";

/** A TalosImage "demo" under fresh mocks, once its URLs are known. */
async function demoImage(mocks: RecordingMocks, args: Partial<TalosImageArgs>): Promise<TalosImage> {
  useMocks(mocks);
  const image = new TalosImage("demo", {
    clusterName: "demo",
    talosVersion: "v1.13.9",
    kernelArgs: ["net.ifnames=0"],
    extensions: ["siderolabs/qemu-guest-agent"],
    hosts: ["pve2", "pve1", "pve2"],
    isoDatastore: "local",
    ...args,
  });
  await valueOf(image.installerImage);
  await settle();
  return image;
}

describe("TalosImage", () => {
  const mocks = new RecordingMocks();
  let image: TalosImage;
  beforeAll(async () => {
    image = await demoImage(mocks, {});
  });

  test("the schematic carries the kernel args and the guest-agent extension", () => {
    const [schematic] = mocks.ofType("talos:imageFactory/schematic:Schematic");
    expect(YAML.parse(String(schematic.inputs.schematic))).toEqual({
      customization: {
        extraKernelArgs: ["net.ifnames=0"],
        systemExtensions: { officialExtensions: ["siderolabs/qemu-guest-agent"] },
      },
    });
  });

  test("URLs are asked for the schematic and version, metal amd64", async () => {
    const schematicId = await valueOf(image.schematicId);
    expect(mocks.callsOf("talos:imageFactory/getUrls:getUrls").map((c) => c.inputs)).toEqual([
      { schematicId, talosVersion: "v1.13.9", platform: "metal", architecture: "amd64" },
    ]);
    expect(await valueOf(image.installerImage)).toBe(`factory.talos.dev/metal-installer/${schematicId}:v1.13.9`);
  });

  test("one ISO download per Proxmox host, named for cluster, version and schematic", async () => {
    const schematicId = await valueOf(image.schematicId);
    const isoUrl = await valueOf(image.isoUrl);
    const downloads = mocks.ofType("proxmoxve:download/file:File").map((r) => unwrap(r.inputs));
    expect(downloads).toEqual(
      ["pve1", "pve2"].map((host) => ({
        nodeName: host,
        datastoreId: "local",
        contentType: "iso",
        url: isoUrl,
        fileName: isoFileName("demo", "v1.13.9", schematicId),
        overwriteUnmanaged: true,
        uploadTimeout: 1800,
      })),
    );
    expect(await valueOf(image.isoFileIds.pve1)).toBe(`local:iso/${isoFileName("demo", "v1.13.9", schematicId)}`);
  });

  test("file names differ by version and schematic", () => {
    const names = new Set([
      isoFileName("demo", "v1.13.9", "aaaaaaaaaaaa1"),
      isoFileName("demo", "v1.13.8", "aaaaaaaaaaaa1"),
      isoFileName("demo", "v1.13.9", "bbbbbbbbbbbb1"),
    ]);
    expect(names.size).toBe(3);
    expect(isoFileName("demo", "v1.13.9", "abc")).toMatch(/^talos-demo-v1\.13\.9-abc-metal-amd64\.iso$/);
  });
});

describe("TalosImage on the nocloud platform (static addressing)", () => {
  const mocks = new RecordingMocks();
  let image: TalosImage;
  beforeAll(async () => {
    image = await demoImage(mocks, { hosts: ["pve1"], platform: "nocloud" });
  });

  test("the ISO and the installer are both nocloud: a metal installer would turn the node into a metal one", async () => {
    const schematicId = await valueOf(image.schematicId);
    expect(mocks.callsOf("talos:imageFactory/getUrls:getUrls").map((c) => c.inputs.platform)).toEqual(["nocloud"]);
    expect(await valueOf(image.isoUrl)).toBe(`https://factory.talos.dev/image/${schematicId}/v1.13.9/nocloud-amd64.iso`);
    expect(await valueOf(image.installerImage)).toBe(`factory.talos.dev/nocloud-installer/${schematicId}:v1.13.9`);
  });

  test("the ISO file is named for its platform, so it never shares a name with the metal one", async () => {
    const schematicId = await valueOf(image.schematicId);
    const [download] = mocks.ofType("proxmoxve:download/file:File").map((r) => unwrap(r.inputs) as { fileName: string });
    expect(download.fileName).toBe(isoFileName("demo", "v1.13.9", schematicId, "nocloud"));
    expect(download.fileName).toMatch(/-nocloud-amd64\.iso$/);
    expect(isoFileName("demo", "v1.13.9", schematicId)).toBe(isoFileName("demo", "v1.13.9", schematicId, "metal"));
  });
});
