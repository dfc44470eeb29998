import * as YAML from "yaml";
import { TalosImage, isoFileName } from "../components/talosImage";
import { RecordingMocks, settle, unwrap, useMocks, valueOf } from "../testkit/mocks";

describe("TalosImage", () => {
  const mocks = new RecordingMocks();
  let image: TalosImage;
  beforeAll(async () => {
    useMocks(mocks);
    image = new TalosImage("demo", {
      clusterName: "demo",
      talosVersion: "v1.13.9",
      kernelArgs: ["net.ifnames=0"],
      extensions: ["siderolabs/qemu-guest-agent"],
      hosts: ["pve2", "pve1", "pve2"],
      isoDatastore: "local",
    });
    await valueOf(image.installerImage);
    await settle();
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
