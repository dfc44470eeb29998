import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec } from "../config/domain";
import type { BackupSettings } from "../engines/tasks";

export type { BackupSettings };

/**
 * The `backups` block as the dynamic resources carry it to the tasks: the directory stays as
 * written (default `backups/<stack>`), relative to the program's directory, where the engine
 * starts the provider host (pulumi/pulumi v3.248.0 pkg/resource/plugin/plugin.go execPlugin
 * `cmd.Dir = pwd`): an absolute path captured here would break on another checkout or machine.
 */
export function backupSettings(spec: Pick<ClusterSpec, "backups">, stack: string = pulumi.getStack()): BackupSettings {
  return { dir: spec.backups.dir ?? `backups/${stack}`, stack, keep: spec.backups.keep, required: spec.backups.required };
}
