/**
 * Loads the hand-written Talos proto subset (`proto/`) once and hands out method definitions
 * (path + serializers) by service and method name.
 */
import * as path from "node:path";
import * as protoLoader from "@grpc/proto-loader";

/** Where the `.proto` subset lives; the import root mirrors Talos's `api/` folder (COSI's under `cosi/`). */
export const TALOS_PROTO_DIR = path.join(__dirname, "proto");

/** The proto files, relative to {@link TALOS_PROTO_DIR}. */
export const TALOS_PROTO_FILES = [
  "common/common.proto",
  "machine/machine.proto",
  "machine/lifecycle.proto",
  "machine/image.proto",
  "cosi/v1alpha1/state.proto",
];

/**
 * Decoding options, shared by the client and the test server. `keepCase` keeps the proto field
 * names (snake_case) so code reads like the .proto; `longs: String` because etcd member IDs are
 * uint64 beyond 2^53; `enums: String` for readable values; `defaults` fills absent scalars;
 * `oneofs` adds the discriminator (e.g. `response: "exit_code"`) so a zero exit code is not
 * mistaken for "absent".
 */
export const TALOS_PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [TALOS_PROTO_DIR],
};

let cached: protoLoader.PackageDefinition | undefined;

/** The package definition of every service in the subset (loaded on first use). */
export function talosPackageDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(TALOS_PROTO_FILES, TALOS_PROTO_OPTIONS);
  return cached;
}

/** Fully qualified service names in the subset. */
export type TalosServiceName = "machine.MachineService" | "machine.LifecycleService" | "machine.ImageService" | "cosi.resource.State";

/** A method's definition (`/machine.MachineService/Version` etc.). Throws when it is not in the subset. */
export function talosMethod(service: TalosServiceName, method: string): protoLoader.MethodDefinition<object, object> {
  const serviceDefinition = talosPackageDefinition()[service] as protoLoader.ServiceDefinition | undefined;
  const definition = serviceDefinition?.[method];
  if (!definition) throw new Error(`${service}/${method} is not in the Talos proto subset`);
  return definition as protoLoader.MethodDefinition<object, object>;
}
