/**
 * A mutual-TLS gRPC connection to one Talos API endpoint (apid), with typed calls that route to a
 * node through it (`node` metadata), a deadline on every call, and errors naming node and operation.
 */
import * as grpc from "@grpc/grpc-js";
import type { TalosTls } from "./credentials";
import { TalosApiError, messageOf } from "./errors";
import type { Metadata, StreamMethods, UnaryMethods } from "./messages";
import { talosMethod, type TalosServiceName } from "./protos";

/** apid's port on every node. */
export const TALOS_API_PORT = 50000;
/** Talos's own limit (GRPCMaxMessageSize); grpc-js would stop at 4 MiB. */
export const TALOS_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Deadline of a call that sets none. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface TalosClientOptions {
  /** `host`, `host:port`, `[v6]` or `[v6]:port`; port 50000 is appended when missing. */
  endpoint: string;
  tls: TalosTls;
  /** Deadline for calls that set none (default 30 s). */
  defaultTimeoutMs?: number;
  /**
   * Cap on grpc-js's reconnect backoff (default 5 s). Its own default grows to 120 s, which would
   * hide a rebooted endpoint long after it is back.
   */
  maxReconnectBackoffMs?: number;
}

/** Per-call options. */
export interface CallOptions {
  /** Target node (IP or name as the endpoint knows it); omitted or equal to the endpoint = the endpoint itself. */
  node?: string;
  /** Name used in errors (defaults to the method). */
  operation?: string;
  timeoutMs?: number;
}

/** Appends Talos's port when the endpoint has none. */
export function withDefaultPort(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (trimmed.startsWith("[")) return /\]:\d+$/.test(trimmed) ? trimmed : `${trimmed}:${TALOS_API_PORT}`;
  const colons = (trimmed.match(/:/g) ?? []).length;
  if (colons > 1) return `[${trimmed}]:${TALOS_API_PORT}`; // bare IPv6
  return colons === 1 ? trimmed : `${trimmed}:${TALOS_API_PORT}`;
}

/** The host part of an endpoint (no port, no brackets). */
export function endpointHost(endpoint: string): string {
  const withPort = withDefaultPort(endpoint);
  return withPort.startsWith("[") ? withPort.slice(1, withPort.indexOf("]")) : withPort.slice(0, withPort.lastIndexOf(":"));
}

/** `MachineService/Version` → `machine.MachineService`; `State/Get` → COSI's `cosi.resource.State`. */
function split(method: string): [TalosServiceName, string] {
  const [service, name] = method.split("/");
  return [(service === "State" ? "cosi.resource.State" : `machine.${service}`) as TalosServiceName, name];
}

function firstNodeError(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (const message of messages as { metadata?: Metadata | null }[]) {
    if (message?.metadata?.error) return message.metadata.error;
  }
  return undefined;
}

/** One connection to an apid endpoint. Close it when done. */
export class TalosClient {
  /** `host:port` as dialled. */
  readonly endpoint: string;
  /** Host part of {@link endpoint}; calls for this node carry no `node` metadata. */
  readonly host: string;
  private readonly client: grpc.Client;
  private readonly defaultTimeoutMs: number;

  constructor(options: TalosClientOptions) {
    this.endpoint = withDefaultPort(options.endpoint);
    this.host = endpointHost(this.endpoint);
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    let credentials: grpc.ChannelCredentials;
    try {
      credentials = grpc.credentials.createSsl(options.tls.ca, options.tls.key, options.tls.cert);
    } catch (error) {
      // The OpenSSL message names the failing decoder, not key material.
      throw new Error(`Talos client credentials for ${this.endpoint} could not be loaded: ${messageOf(error)}`);
    }
    this.client = new grpc.Client(this.endpoint, credentials, {
      "grpc.max_receive_message_length": TALOS_MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": TALOS_MAX_MESSAGE_BYTES,
      "grpc.max_reconnect_backoff_ms": options.maxReconnectBackoffMs ?? 5_000,
      "grpc.initial_reconnect_backoff_ms": Math.min(1_000, options.maxReconnectBackoffMs ?? 1_000),
    });
  }

  /** `node` metadata, set once, only when the target is not the endpoint itself. */
  private metadataFor(node: string | undefined): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (node && node !== this.host) metadata.set("node", node);
    return metadata;
  }

  private wrap(error: unknown, operation: string, node: string | undefined): TalosApiError {
    const serviceError = error as Partial<grpc.ServiceError>;
    const code = typeof serviceError.code === "number" ? serviceError.code : undefined;
    const detail = code === undefined ? messageOf(error) : `${grpc.status[code]}: ${serviceError.details ?? ""}`;
    return new TalosApiError(operation, node ?? this.host, detail, code);
  }

  /** A unary call; rejects when any reply entry carries a proxy error. */
  unary<K extends keyof UnaryMethods>(method: K, request: UnaryMethods[K][0], options: CallOptions = {}): Promise<UnaryMethods[K][1]> {
    const definition = talosMethod(...split(method));
    const operation = options.operation ?? method;
    const deadline = Date.now() + (options.timeoutMs ?? this.defaultTimeoutMs);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<object, UnaryMethods[K][1]>(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize as (bytes: Buffer) => UnaryMethods[K][1],
        request,
        this.metadataFor(options.node),
        { deadline },
        (error, reply) => {
          if (error) return reject(this.wrap(error, operation, options.node));
          const nodeError = firstNodeError((reply as { messages?: unknown } | undefined)?.messages);
          if (nodeError) return reject(new TalosApiError(operation, options.node ?? this.host, nodeError));
          resolve(reply as UnaryMethods[K][1]);
        },
      );
    });
  }

  /**
   * A server-streaming call: `onMessage` sees each message in order; resolves when the stream ends
   * OK. A throw from `onMessage` cancels the call and rejects with that error.
   */
  stream<K extends keyof StreamMethods>(
    method: K,
    request: StreamMethods[K][0],
    onMessage: (message: StreamMethods[K][1]) => void,
    options: CallOptions = {},
  ): Promise<void> {
    const definition = talosMethod(...split(method));
    const operation = options.operation ?? method;
    const deadline = Date.now() + (options.timeoutMs ?? this.defaultTimeoutMs);
    return new Promise((resolve, reject) => {
      let failed = false;
      const call = this.client.makeServerStreamRequest<object, StreamMethods[K][1]>(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize as (bytes: Buffer) => StreamMethods[K][1],
        request,
        this.metadataFor(options.node),
        { deadline },
      );
      call.on("data", (message: StreamMethods[K][1]) => {
        if (failed) return;
        try {
          const nodeError = (message as { metadata?: Metadata | null }).metadata?.error;
          if (nodeError) throw new TalosApiError(operation, options.node ?? this.host, nodeError);
          onMessage(message);
        } catch (error) {
          failed = true;
          call.cancel();
          reject(error);
        }
      });
      call.on("error", (error) => {
        if (!failed) reject(this.wrap(error, operation, options.node));
        failed = true;
      });
      call.on("status", (status: grpc.StatusObject) => {
        if (!failed && status.code === grpc.status.OK) resolve();
      });
    });
  }

  /** A server-streaming call whose messages are all returned at the end. */
  async collect<K extends keyof StreamMethods>(method: K, request: StreamMethods[K][0], options: CallOptions = {}): Promise<StreamMethods[K][1][]> {
    const messages: StreamMethods[K][1][] = [];
    await this.stream(method, request, (message) => messages.push(message), options);
    return messages;
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

/** Opens a client to one endpoint. */
export function connectTalos(options: TalosClientOptions): TalosClient {
  return new TalosClient(options);
}
