/** Talos version tags (`v1.13.9`, `v1.13.0-alpha.3`): parsing and ordering. */

export interface TalosVersion {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (`["alpha", "3"]`), empty for a release. */
  prerelease: string[];
}

/** Parses `vX.Y.Z[-pre]` (the leading `v` is optional); undefined when it is not such a tag. */
export function parseTalosVersion(tag: string): TalosVersion | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(tag.trim());
  if (!match) return undefined;
  return { major: +match[1], minor: +match[2], patch: +match[3], prerelease: match[4] ? match[4].split(".") : [] };
}

function comparePrerelease(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return b.length - a.length; // a release sorts after its pre-releases
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    const order = nx && ny ? +x - +y : nx ? -1 : ny ? 1 : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** Semver order of two tags; throws on a tag that does not parse. */
export function compareTalosVersions(a: string, b: string): number {
  const [x, y] = [parseTalosVersion(a), parseTalosVersion(b)];
  if (!x || !y) throw new Error(`not a Talos version tag: ${!x ? a : b}`);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || comparePrerelease(x.prerelease, y.prerelease);
}

/** First version serving LifecycleService/ImageService (talosctl's rule: > 1.13.0-alpha.2). */
// not-a-pin: the first Talos version with LifecycleService, a fact of the API
export const LIFECYCLE_API_SINCE = "v1.13.0-alpha.3";

/** Whether a node on `tag` is upgraded through LifecycleService (else the legacy MachineService.Upgrade). */
export function hasLifecycleApi(tag: string): boolean {
  return compareTalosVersions(tag, LIFECYCLE_API_SINCE) >= 0;
}

/** Two tags name the same version (a missing `v` is ignored). */
export function sameVersion(a: string, b: string): boolean {
  return a.trim().replace(/^v/, "") === b.trim().replace(/^v/, "");
}
