/**
 * TypeScript shapes of the proto subset as decoded with {@link TALOS_PROTO_OPTIONS}: snake_case
 * names, uint64/int64 as decimal strings, enums as names, absent sub-messages as `null`, and a
 * oneof's discriminator as its own field. Requests may leave out any field (proto3 defaults).
 */

export type Empty = Record<string, never>;

export interface Metadata {
  hostname: string;
  /** Set by apid when proxying to this node failed (one-to-many calls only). */
  error: string;
}

export interface Data {
  metadata: Metadata | null;
  bytes: Buffer;
}

export type ContainerDriver = "CONTAINERD" | "CRI";
export type ContainerdNamespace = "NS_UNKNOWN" | "NS_SYSTEM" | "NS_CRI";
export interface ContainerdInstance {
  driver?: ContainerDriver;
  namespace?: ContainerdNamespace;
}

/** Every MachineService reply: one entry per node that answered. */
export interface Replies<T> {
  messages: (T & { metadata: Metadata | null })[];
}

export interface VersionInfo {
  tag: string;
  sha: string;
  built: string;
  go_version: string;
  os: string;
  arch: string;
}
export interface Version {
  version: VersionInfo | null;
  platform: { name: string; mode: string } | null;
  features: { rbac: boolean } | null;
}

export interface ReadRequest {
  path: string;
}

export interface SystemStat {
  /** Unix seconds, as a decimal string (uint64). */
  boot_time: string;
}

export type RebootMode = "DEFAULT" | "POWERCYCLE" | "FORCE";
export interface RebootRequest {
  mode?: RebootMode;
}
export interface ActorReply {
  actor_id: string;
}

export interface ResetRequest {
  graceful?: boolean;
  reboot?: boolean;
  system_partitions_to_wipe?: { label: string; wipe: boolean }[];
  user_disks_to_wipe?: string[];
  mode?: "ALL" | "SYSTEM_DISK" | "USER_DISKS";
}

export interface UpgradeRequest {
  image: string;
  preserve?: boolean;
  stage?: boolean;
  force?: boolean;
  reboot_mode?: "DEFAULT" | "POWERCYCLE";
}
export interface Upgrade {
  ack: string;
  actor_id: string;
}

export interface ImagePullRequest {
  namespace?: ContainerdNamespace;
  reference: string;
}

export type ApplyMode = "REBOOT" | "AUTO" | "NO_REBOOT" | "STAGED" | "TRY";
export interface ApplyConfigurationRequest {
  data: Buffer;
  mode?: ApplyMode;
  dry_run?: boolean;
}
export interface ApplyConfiguration {
  warnings: string[];
  mode: ApplyMode;
  mode_details: string;
}

export interface ServiceInfo {
  id: string;
  /** e.g. "Running", "Waiting", "Failed". */
  state: string;
  health: { unknown: boolean; healthy: boolean; last_message: string } | null;
}
export interface ServiceList {
  services: ServiceInfo[];
}

export interface EtcdMember {
  /** uint64 as a decimal string. */
  id: string;
  hostname: string;
  peer_urls: string[];
  client_urls: string[];
  is_learner: boolean;
}
export interface EtcdMembers {
  legacy_members: string[];
  members: EtcdMember[];
}
export interface EtcdMemberStatus {
  protocol_version: string;
  db_size: string;
  db_size_in_use: string;
  leader: string;
  raft_index: string;
  raft_term: string;
  raft_applied_index: string;
  errors: string[];
  is_learner: boolean;
  member_id: string;
  storage_version: string;
}
export interface EtcdStatus {
  member_status: EtcdMemberStatus | null;
}
export interface EtcdForfeitLeadership {
  member: string;
}

export interface LifecycleServiceUpgradeRequest {
  containerd?: ContainerdInstance;
  source: { image_name: string };
}
export type LifecycleServiceInstallProgress =
  | { response: "message"; message: string }
  | { response: "exit_code"; exit_code: number };
export interface LifecycleServiceUpgradeResponse {
  progress: LifecycleServiceInstallProgress | null;
}

export interface ImageServicePullRequest {
  containerd?: ContainerdInstance;
  image_ref: string;
}
export type ImageServicePullResponse =
  | { response: "name"; name: string }
  | {
      response: "pull_progress";
      pull_progress: { layer_id: string; progress: { status: string; offset: string; total: string } | null };
    }
  | { response?: undefined };

/** A COSI resource (State service): metadata and the spec as Talos renders it in YAML. */
export interface CosiResource {
  metadata: {
    namespace: string;
    type: string;
    id: string;
    /** Bumped by every change of the resource (a decimal string). */
    version: string;
    phase: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  } | null;
  spec: { proto_spec: Buffer; yaml_spec: string } | null;
}
export interface CosiGetRequest {
  namespace: string;
  type: string;
  id: string;
}
export interface CosiListRequest {
  namespace: string;
  type: string;
}

/** Unary methods: request and reply types. */
export interface UnaryMethods {
  "MachineService/ApplyConfiguration": [ApplyConfigurationRequest, Replies<ApplyConfiguration>];
  "MachineService/EtcdMemberList": [{ query_local?: boolean }, Replies<EtcdMembers>];
  "MachineService/EtcdRemoveMemberByID": [{ member_id: string }, Replies<object>];
  "MachineService/EtcdLeaveCluster": [Empty, Replies<object>];
  "MachineService/EtcdForfeitLeadership": [Empty, Replies<EtcdForfeitLeadership>];
  "MachineService/EtcdStatus": [Empty, Replies<EtcdStatus>];
  "MachineService/Reboot": [RebootRequest, Replies<ActorReply>];
  "MachineService/Reset": [ResetRequest, Replies<ActorReply>];
  "MachineService/ServiceList": [Empty, Replies<ServiceList>];
  "MachineService/SystemStat": [Empty, Replies<SystemStat>];
  "MachineService/Upgrade": [UpgradeRequest, Replies<Upgrade>];
  "MachineService/Version": [Empty, Replies<Version>];
  "MachineService/ImagePull": [ImagePullRequest, Replies<object>];
  "State/Get": [CosiGetRequest, { resource: CosiResource | null }];
}

/** Server-streaming methods: request and streamed message types. */
export interface StreamMethods {
  "MachineService/Kubeconfig": [Empty, Data];
  "MachineService/Read": [ReadRequest, Data];
  "MachineService/EtcdSnapshot": [Empty, Data];
  "LifecycleService/Upgrade": [LifecycleServiceUpgradeRequest, LifecycleServiceUpgradeResponse];
  "ImageService/Pull": [ImageServicePullRequest, ImageServicePullResponse];
  "State/List": [CosiListRequest, { resource: CosiResource | null }];
}
