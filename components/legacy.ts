import * as pulumi from "@pulumi/pulumi";

/**
 * Release 0.1 registered every resource at the stack root under names built from `clusterName`
 * (tests/fixtures/v0.1-urns.json). An alias to that URN lets a stack deployed with 0.1 adopt
 * the current layout without replacing anything; where no such resource exists the engine
 * ignores the alias.
 */
export function v01Alias(typeChain: string, oldName: string): pulumi.Alias[] | string[] {
  return [`urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${typeChain}::${oldName}`];
}

/**
 * Aliases for the children of a 0.1 component of type `parentType`, named `<legacyName>-<suffix>`
 * then; no aliases when `legacyName` is unset (nothing to adopt).
 */
export function v01ChildAliases(parentType: string, legacyName: string | undefined) {
  return (childType: string, suffix: string) =>
    legacyName === undefined ? undefined : v01Alias(`${parentType}$${childType}`, `${legacyName}-${suffix}`);
}
