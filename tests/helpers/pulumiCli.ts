/**
 * The Pulumi CLI's own checks of a stack's config, made before the program runs (pulumi/pulumi
 * sdk/go/common/workspace `ValidateStackConfigAndApplyProjectConfig` and `config.ParseKey`; see
 * ../shared/reference/providers.md D.4). Modelled here because the mock runtime never runs them.
 */

interface ProjectFile {
  name: string;
  config?: Record<string, unknown>;
}

interface StackFile {
  config?: Record<string, unknown>;
}

type Declared = { type?: string; default?: unknown; secret?: boolean; value?: unknown };

/** The errors `pulumi preview`/`up` would stop with for this project and stack file; [] = it starts. */
export function cliConfigErrors(project: ProjectFile, stack: StackFile, stackName: string): string[] {
  const errors: string[] = [];
  const values = stack.config ?? {};
  for (const key of Object.keys(values)) {
    if (!key.includes(":")) {
      errors.push(`could not parse ${key} as a configuration key (configuration keys should be of form \`<namespace>:<name>\`)`);
    }
  }
  const missing: string[] = [];
  for (const [rawKey, declaration] of Object.entries(project.config ?? {})) {
    // A bare key belongs to the project's namespace; a namespaced one is a provider's plain value.
    const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
    if (declaration === null || typeof declaration !== "object" || !("type" in declaration)) continue;
    const decl = declaration as Declared;
    if (rawKey.includes(":")) {
      errors.push(`${rawKey}: schemas are only valid for project property keys`);
      continue;
    }
    const value = values[key];
    if (value === undefined) {
      if (decl.default === undefined) missing.push(rawKey);
      continue;
    }
    const secure = typeof value === "object" && value !== null && "secure" in value;
    if (decl.secret && !secure) errors.push(`Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`);
    if (!secure && !matchesType(value, decl.type!)) {
      errors.push(`Stack '${stackName}' with configuration key '${key}' must be of type '${decl.type}'`);
    }
  }
  if (missing.length > 0) {
    errors.push(`Stack '${stackName}' is missing configuration values ${missing.map((m) => `'${m}'`).join(", ")}`);
  }
  return errors;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case "string":
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    case "integer":
      return Number.isInteger(typeof value === "string" ? Number(value) : value);
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "array":
      return Array.isArray(value);
    default:
      return false;
  }
}
