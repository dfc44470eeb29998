/**
 * Talos machine API client room: mutual-TLS gRPC to apid and node operations.
 * Plain async functions; knows nothing of Pulumi.
 */
export * from "./client";
export * from "./credentials";
export * from "./errors";
export * from "./etcd";
export * from "./image";
export * from "./machine";
export type * from "./messages";
export * from "./poll";
export * from "./protos";
export * from "./tar";
export * from "./versions";
export * from "./wait";
