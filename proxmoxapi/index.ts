/** The Proxmox VE API room: a small HTTPS client and the VM calls a hardware reboot needs. No Pulumi. */
export * from "./client";
export * from "./vm";
