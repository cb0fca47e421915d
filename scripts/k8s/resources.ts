/**
 * Rendered Kubernetes resources as the checks see them, and the few helpers every check needs: a name to
 * print, the pod spec of a workload, the parts of an image reference.
 */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

type Obj = Record<string, unknown>;

const POD_SPEC_PATHS: ReadonlyArray<readonly string[]> = [
  ['spec', 'template', 'spec'],
  ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
];

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A YAML document as a resource, or an error naming where it came from and what it lacks. */
export function asResource(value: unknown, source: string): Resource {
  const metadata = isObj(value) ? value.metadata : undefined;
  if (
    !isObj(value) ||
    typeof value.apiVersion !== 'string' ||
    typeof value.kind !== 'string' ||
    !isObj(metadata) ||
    typeof metadata.name !== 'string'
  ) {
    throw new Error(`${source}: a resource needs apiVersion, kind and metadata.name`);
  }
  return value as Resource;
}

export function resourceId(r: Resource): string {
  return `${r.kind}/${r.metadata.name}${r.metadata.namespace ? ` (namespace ${r.metadata.namespace})` : ''}`;
}

/** `registry:5000/a/b:tag@sha256:…` → name `registry:5000/a/b`, tag, digest. */
export function parseImage(image: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const rest = at === -1 ? image : image.slice(0, at);
  const colon = rest.lastIndexOf(':');
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : undefined;
  return { name: tag === undefined ? rest : rest.slice(0, colon), tag, digest };
}

export function podSpecOf(r: Resource): Obj | undefined {
  if (r.kind === 'Pod') return isObj(r.spec) ? r.spec : undefined;
  for (const path of POD_SPEC_PATHS) {
    let at: unknown = r;
    for (const key of path) at = isObj(at) ? at[key] : undefined;
    if (isObj(at)) return at;
  }
  return undefined;
}
