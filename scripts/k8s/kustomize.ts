/**
 * An offline renderer for the subset of kustomize that k8s/ uses, so CI can check what
 * `kubectl apply -k` would apply without kubectl, kustomize or a network.
 *
 * Input: a directory holding kustomization.yaml. Output: the resources in the order kustomize emits them
 * (resources, then generated ConfigMaps), after components, patches, the namespace and images.
 *
 * Supported: `resources` (files and directories), `components`, `namespace`, `configMapGenerator`
 * (`files` as `path` or `key=path`, `literals`, `behavior: create|replace|merge`), `generatorOptions`
 * (accepted; see below), `patches` (strategic merge patches, from `path` or inline `patch`, targeted by
 * the patch's own kind and name, or by `target.kind`/`target.name`), and `images` (`newName`, `newTag`,
 * `digest`). Any other key, a JSON 6902 patch, or a `$patch` directive is an error: a field the renderer
 * does not apply must never pass the checks unseen.
 *
 * Differences from kustomize that the checks do not depend on: generated ConfigMaps keep their plain
 * name (no content-hash suffix, so no name-reference rewriting is needed), and the strategic merge knows
 * the merge keys of pod specs and Services only (the table below), replacing every other list whole.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A YAML value as a message shows it: a string as written, anything else as JSON (`1.2`, `{"a":1}`). */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}

export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export class KustomizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KustomizeError';
  }
}

type Obj = Record<string, unknown>;

const KUSTOMIZATION_KEYS = [
  'apiVersion', 'kind', 'resources', 'components', 'namespace', 'configMapGenerator', 'generatorOptions', 'patches', 'images',
];
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass']);
const POD_SPEC_PATHS: ReadonlyArray<readonly string[]> = [['spec', 'template', 'spec'], ['spec', 'jobTemplate', 'spec', 'template', 'spec']];

/** Strategic-merge keys by list field name (k8s `patchMergeKey`), for the kinds k8s/ holds. */
const MERGE_KEYS: Record<string, (item: Obj) => string | undefined> = {
  containers: () => 'name',
  initContainers: () => 'name',
  ephemeralContainers: () => 'name',
  volumes: () => 'name',
  env: () => 'name',
  volumeMounts: () => 'mountPath',
  imagePullSecrets: () => 'name',
  // Container ports merge on containerPort, Service ports on port.
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port' in item ? 'port' : undefined),
};

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readYamlDocs(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { uniqueKeys: true });
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new KustomizeError(`${path}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function asResource(value: unknown, source: string): Resource {
  if (!isObj(value)) throw new KustomizeError(`${source}: a resource must be a mapping`);
  const metadata = value.metadata;
  if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isObj(metadata) || typeof metadata.name !== 'string') {
    throw new KustomizeError(`${source}: a resource needs apiVersion, kind and metadata.name`);
  }
  return value as Resource;
}

export function resourceId(r: Resource): string {
  return `${r.kind}/${r.metadata.name}${r.metadata.namespace ? ` (namespace ${r.metadata.namespace})` : ''}`;
}

function kustomizationFile(dir: string): string {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new KustomizeError(`${dir}: no kustomization.yaml`);
}

function list(k: Obj, key: string, file: string): unknown[] {
  const value = k[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new KustomizeError(`${file}: ${key} must be a list`);
  return value;
}

/** Renders the kustomization in `dir` (a Kustomization, or a Component applied to `into`). */
export function render(dir: string, options: { components?: string[] } = {}): Resource[] {
  return build(resolve(dir), [], 'Kustomization', options.components ?? []);
}

function build(dir: string, into: Resource[], expectKind: 'Kustomization' | 'Component', extraComponents: string[]): Resource[] {
  const file = kustomizationFile(dir);
  const docs = readYamlDocs(file);
  if (docs.length !== 1 || !isObj(docs[0])) throw new KustomizeError(`${file}: must hold one mapping`);
  const k = docs[0];
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_KEYS.includes(key)) {
      throw new KustomizeError(`${file}: "${key}" is not supported by the offline renderer (scripts/k8s/kustomize.ts); extend it before using the field`);
    }
  }
  const kind = k.kind ?? 'Kustomization';
  if (kind !== expectKind) throw new KustomizeError(`${file}: kind ${shown(kind)} where a ${expectKind} was expected`);

  let out: Resource[] = expectKind === 'Component' ? into : [];
  for (const entry of list(k, 'resources', file)) {
    if (typeof entry !== 'string') throw new KustomizeError(`${file}: resources entries must be paths`);
    const path = resolve(dir, entry);
    if (!existsSync(path)) throw new KustomizeError(`${file}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) out.push(...build(path, [], 'Kustomization', []));
    else out.push(...readYamlDocs(path).map((d) => asResource(d, relative(process.cwd(), path))));
  }

  const options = k.generatorOptions;
  if (options !== undefined && !isObj(options)) throw new KustomizeError(`${file}: generatorOptions must be a mapping`);
  for (const gen of list(k, 'configMapGenerator', file)) out = generateConfigMap(dir, file, gen, out);

  for (const component of [...list(k, 'components', file), ...extraComponents]) {
    if (typeof component !== 'string') throw new KustomizeError(`${file}: components entries must be paths`);
    out = build(resolve(dir, component), out, 'Component', []);
  }

  for (const patch of list(k, 'patches', file)) out = applyPatchEntry(dir, file, patch, out);

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') throw new KustomizeError(`${file}: namespace must be a string`);
    for (const r of out) if (!CLUSTER_SCOPED.has(r.kind)) r.metadata.namespace = k.namespace;
  }
  for (const image of list(k, 'images', file)) setImage(file, image, out);
  return out;
}

function generateConfigMap(dir: string, file: string, gen: unknown, out: Resource[]): Resource[] {
  if (!isObj(gen) || typeof gen.name !== 'string') throw new KustomizeError(`${file}: a configMapGenerator entry needs a name`);
  for (const key of Object.keys(gen)) {
    if (!['name', 'namespace', 'behavior', 'files', 'literals'].includes(key)) {
      throw new KustomizeError(`${file}: configMapGenerator.${key} is not supported by the offline renderer`);
    }
  }
  const data: Record<string, string> = {};
  for (const entry of list(gen, 'files', file)) {
    if (typeof entry !== 'string') throw new KustomizeError(`${file}: configMapGenerator files entries must be strings`);
    const eq = entry.indexOf('=');
    const key = eq === -1 ? basename(entry) : entry.slice(0, eq);
    const path = resolve(dir, eq === -1 ? entry : entry.slice(eq + 1));
    if (relative(dir, path).startsWith('..')) throw new KustomizeError(`${file}: ${entry} is outside the kustomization root (kustomize refuses it)`);
    data[key] = readFileSync(path, 'utf8');
  }
  for (const entry of list(gen, 'literals', file)) {
    if (typeof entry !== 'string' || !entry.includes('=')) throw new KustomizeError(`${file}: literals entries are key=value`);
    data[entry.slice(0, entry.indexOf('='))] = entry.slice(entry.indexOf('=') + 1);
  }
  const behavior = gen.behavior ?? 'create';
  const existing = out.find((r) => r.kind === 'ConfigMap' && r.metadata.name === gen.name);
  if (behavior === 'create') {
    if (existing) throw new KustomizeError(`${file}: ConfigMap ${gen.name} already exists (use behavior: replace or merge)`);
    const cm: Resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data };
    if (typeof gen.namespace === 'string') cm.metadata.namespace = gen.namespace;
    return [...out, cm];
  }
  if (behavior !== 'replace' && behavior !== 'merge') throw new KustomizeError(`${file}: unknown configMapGenerator behavior ${shown(behavior)}`);
  if (!existing) throw new KustomizeError(`${file}: behavior ${behavior} needs a ConfigMap ${gen.name} from the resources`);
  existing.data = behavior === 'replace' ? data : { ...(existing.data as Record<string, string> | undefined), ...data };
  return out;
}

function applyPatchEntry(dir: string, file: string, entry: unknown, out: Resource[]): Resource[] {
  if (!isObj(entry)) throw new KustomizeError(`${file}: a patches entry must be a mapping`);
  for (const key of Object.keys(entry)) {
    if (!['path', 'patch', 'target'].includes(key)) throw new KustomizeError(`${file}: patches.${key} is not supported by the offline renderer`);
  }
  let docs: unknown[];
  let source: string;
  if (typeof entry.path === 'string') {
    source = resolve(dir, entry.path);
    docs = readYamlDocs(source);
  } else if (typeof entry.patch === 'string') {
    source = `${file} (inline patch)`;
    docs = parseAllDocuments(entry.patch).map((d) => d.toJS() as unknown);
  } else {
    throw new KustomizeError(`${file}: a patches entry needs path or patch`);
  }
  for (const doc of docs) {
    if (Array.isArray(doc)) throw new KustomizeError(`${source}: JSON 6902 patches are not supported by the offline renderer`);
    if (!isObj(doc)) throw new KustomizeError(`${source}: a patch must be a mapping`);
    const target = isObj(entry.target) ? entry.target : {};
    const kind = (target.kind ?? doc.kind) as string | undefined;
    const name = (target.name ?? (isObj(doc.metadata) ? doc.metadata.name : undefined)) as string | undefined;
    const matches = out.filter((r) => (kind === undefined || r.kind === kind) && (name === undefined || r.metadata.name === name));
    if (matches.length === 0) throw new KustomizeError(`${source}: the patch matches no resource (${kind ?? '*'}/${name ?? '*'})`);
    for (const r of matches) {
      const merged = strategicMerge(r, doc, source) as Resource;
      out = out.map((x) => (x === r ? merged : x));
    }
  }
  return out;
}

/** Strategic merge of `patch` into `base` (k8s semantics for maps, keyed lists and `null` deletions). */
export function strategicMerge(base: unknown, patch: unknown, source = 'patch', field = ''): unknown {
  if (isObj(patch)) {
    if (!isObj(base)) return strip(patch, source);
    const out: Obj = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new KustomizeError(`${source}: the ${key} directive is not supported by the offline renderer`);
      if (value === null) delete out[key];
      else out[key] = strategicMerge(base[key], value, source, key);
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const keyOf = MERGE_KEYS[field];
    if (!keyOf || !Array.isArray(base) || !patch.every(isObj)) return strip(patch, source);
    const out = [...base];
    for (const item of patch) {
      const key = keyOf(item);
      if (key === undefined || item[key] === undefined) throw new KustomizeError(`${source}: a ${field} entry without its merge key`);
      const at = out.findIndex((b) => isObj(b) && b[key] === item[key]);
      if (at === -1) out.push(strip(item, source));
      else out[at] = strategicMerge(out[at], item, source, '');
    }
    return out;
  }
  return patch;
}

function strip(value: unknown, source: string): unknown {
  if (isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('$')) throw new KustomizeError(`${source}: the ${k} directive is not supported by the offline renderer`);
      if (v !== null) out[k] = strip(v, source);
    }
    return out;
  }
  return Array.isArray(value) ? value.map((v) => strip(v, source)) : value;
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

function setImage(file: string, entry: unknown, out: Resource[]): void {
  if (!isObj(entry) || typeof entry.name !== 'string') throw new KustomizeError(`${file}: an images entry needs a name`);
  for (const key of Object.keys(entry)) {
    if (!['name', 'newName', 'newTag', 'digest'].includes(key)) throw new KustomizeError(`${file}: images.${key} is not supported by the offline renderer`);
  }
  for (const r of out) {
    const spec = podSpecOf(r);
    if (!spec) continue;
    for (const field of ['initContainers', 'containers']) {
      const containers = spec[field];
      if (!Array.isArray(containers)) continue;
      for (const c of containers as Obj[]) {
        if (typeof c.image !== 'string') continue;
        const current = parseImage(c.image);
        if (current.name !== entry.name) continue;
        const name = typeof entry.newName === 'string' ? entry.newName : current.name;
        if (typeof entry.digest === 'string') c.image = `${name}@${entry.digest}`;
        else {
          const tag = entry.newTag !== undefined ? shown(entry.newTag) : current.tag;
          c.image = `${name}${tag !== undefined ? `:${tag}` : ''}${current.digest ? `@${current.digest}` : ''}`;
        }
      }
    }
  }
}

/** The directories under `root` (itself included) holding a kustomization, by kind, in path order. */
export function findKustomizations(root: string): { kustomizations: string[]; components: string[] } {
  const found = { kustomizations: [] as string[], components: [] as string[] };
  const walk = (dir: string): void => {
    const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((n) => join(dir, n)).find((p) => existsSync(p));
    if (file) {
      const doc = readYamlDocs(file)[0];
      const kind = isObj(doc) ? doc.kind ?? 'Kustomization' : undefined;
      if (kind === 'Kustomization') found.kustomizations.push(dir);
      else if (kind === 'Component') found.components.push(dir);
    }
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(resolve(root));
  return found;
}
