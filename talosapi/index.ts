/**
 * Talos machine API client room: mutual-TLS gRPC to apid and the calls made over it (machine, etcd,
 * images, COSI resources, waits). Plain async functions; knows nothing of Pulumi or of rollouts.
 */
export * from "./client";
export * from "./cosi";
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
