import * as pulumi from "@pulumi/pulumi";

/**
 * The one place that knows which Talos provider plugin this binding speaks to.
 * Every resource and invoke carries `version` and `pluginDownloadURL`, so the engine fetches
 * exactly this plugin (`pulumi-resource-talos-v0.8.1-<os>-<arch>.tar.gz`) when it is missing.
 */
export const PLUGIN_NAME = "talos";
// renovate: datasource=github-releases depName=pulumiverse/pulumi-talos extractVersion=^v(?<version>.+)$
export const PLUGIN_VERSION = "0.8.1";
export const PLUGIN_DOWNLOAD_URL = "github://api.github.com/pulumiverse";

const defaults = { version: PLUGIN_VERSION, pluginDownloadURL: PLUGIN_DOWNLOAD_URL };

/** Resource options with the plugin defaults underneath the caller's (caller wins). */
export function resourceOptions(
  opts: pulumi.CustomResourceOptions | undefined,
  secretOutputs: string[] = [],
): pulumi.CustomResourceOptions {
  const merged = pulumi.mergeOptions(defaults, opts ?? {});
  if (secretOutputs.length === 0) return merged;
  return pulumi.mergeOptions(merged, { additionalSecretOutputs: secretOutputs });
}

/** Invoke options with the plugin defaults underneath the caller's (caller wins). */
export function invokeOptions(opts: pulumi.InvokeOutputOptions | undefined): pulumi.InvokeOutputOptions {
  return { ...defaults, ...(opts ?? {}) };
}

/**
 * Throws the generated SDKs' error for a missing required input. Skipped when a resource is
 * read back by URN, where inputs come from state.
 */
export function requireInputs(
  token: string,
  args: object | undefined,
  required: readonly string[],
  opts?: { urn?: pulumi.Input<string> },
): void {
  if (opts?.urn) return;
  const given = (args ?? {}) as Record<string, unknown>;
  for (const key of required) {
    if (given[key] === undefined) throw new Error(`Missing required property '${key}' (${token})`);
  }
}

/**
 * Output-form invoke: keeps secretness of inputs and results. When the provider's schema marks
 * a result field secret, the whole result is wrapped as a secret as well, so the value never
 * depends on how the engine reports nested secrets.
 */
export function invokeOutput<T>(
  token: string,
  args: Record<string, unknown>,
  schema: { required: readonly string[]; secretResult: boolean },
  opts: pulumi.InvokeOutputOptions | undefined,
): pulumi.Output<T> {
  requireInputs(token, args, schema.required);
  const result = pulumi.runtime.invokeOutput<T>(token, args as pulumi.Inputs, invokeOptions(opts));
  return schema.secretResult ? (pulumi.secret(result) as pulumi.Output<T>) : result;
}

/**
 * Promise-form invoke, for code that runs outside the resource graph (resource hooks). Secrets in
 * the result are not tracked: use it only for results without secrets.
 */
export function invokePromise<T>(
  token: string,
  args: Record<string, unknown>,
  required: readonly string[],
  opts?: pulumi.InvokeOptions,
): Promise<T> {
  requireInputs(token, args, required);
  return pulumi.runtime.invoke(token, args as pulumi.Inputs, { ...defaults, ...(opts ?? {}) }) as Promise<T>;
}
