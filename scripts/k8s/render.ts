/**
 * Turns the kustomizations under k8s/ into resources for the checks, with the real tool: `kubectl
 * kustomize DIR` (kustomize as kubectl bundles it), whose output is exactly what `kubectl apply -k DIR`
 * would send, generated names and all.
 *
 * Where kubectl is missing, nothing can be rendered faithfully, so nothing is: `filesAsTheyAre` reads the
 * complete resources the kustomizations list (`resources:` entries that are files, not patches) so they
 * can still be validated one by one, and the caller says that it did so.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { asResource, type Resource } from './resources.ts';

type Obj = Record<string, unknown>;

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
/** kubectl kustomize renders in well under a second; a hung binary must not hang CI. */
const KUBECTL_TIMEOUT_MS = 60_000;

export interface Kustomization {
  dir: string;
  file: string;
  kind: 'Kustomization' | 'Component';
  /** The parsed kustomization.yaml. */
  spec: Obj;
}

export class KubectlMissing extends Error {
  constructor(readonly command: string) {
    super(`${command} not found`);
    this.name = 'KubectlMissing';
  }
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Every YAML document of `text` as a value; an invalid document is an error naming `source`. */
export function parseYamlDocs(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length > 0) throw new Error(`${source}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value = doc.toJS() as unknown;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** The kustomizations and components under `root` (itself included), in path order. */
export function findKustomizations(root: string): Kustomization[] {
  const found: Kustomization[] = [];
  const walk = (dir: string): void => {
    const file = KUSTOMIZATION_FILES.map((n) => join(dir, n)).find((p) => existsSync(p));
    if (file) {
      const spec = parseYamlDocs(readFileSync(file, 'utf8'), file)[0];
      const kind = isObj(spec) ? (spec.kind ?? 'Kustomization') : undefined;
      if (isObj(spec) && (kind === 'Kustomization' || kind === 'Component')) found.push({ dir, file, kind, spec });
      else throw new Error(`${file}: not a Kustomization or Component`);
    }
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(resolve(root));
  return found;
}

/** The components some kustomization under the same root uses (`components:` entries, resolved). */
export function usedComponents(all: readonly Kustomization[]): Set<string> {
  return new Set(all.flatMap((k) => strings(k.spec.components).map((c) => resolve(k.dir, c))));
}

/**
 * `kubectl kustomize dir`, parsed. Throws KubectlMissing if the command does not exist, or an Error with
 * kustomize's own message if it cannot render.
 */
export async function kubectlKustomize(dir: string, kubectl = 'kubectl'): Promise<Resource[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(kubectl, ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024, timeout: KUBECTL_TIMEOUT_MS }));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new KubectlMissing(kubectl);
    const reason = (e.stderr ?? '').trim().split('\n').filter(Boolean).at(-1) ?? e.message;
    throw new Error(`kubectl kustomize failed: ${reason}`, { cause: error });
  }
  return parseYamlDocs(stdout, `kubectl kustomize ${dir}`).map((doc, i) => asResource(doc, `kubectl kustomize ${dir} document ${i + 1}`));
}

/**
 * Without kubectl: the resource files the kustomizations list, each read as it is. Directories in
 * `resources:` are other kustomizations (read in their own right); patches are partial objects and
 * generated ConfigMaps do not exist yet, so neither is here.
 */
export function filesAsTheyAre(all: readonly Kustomization[]): Array<{ file: string; resources: Resource[] }> {
  const out: Array<{ file: string; resources: Resource[] }> = [];
  for (const k of all) {
    for (const entry of strings(k.spec.resources)) {
      const path = resolve(k.dir, entry);
      if (!existsSync(path)) throw new Error(`${k.file}: resource ${entry} does not exist`);
      if (statSync(path).isDirectory()) continue;
      const docs = parseYamlDocs(readFileSync(path, 'utf8'), path);
      out.push({ file: path, resources: docs.map((d, i) => asResource(d, `${path} document ${i + 1}`)) });
    }
  }
  return out;
}

/** The files a kustomization's configMapGenerator reads (`path` or `key=path`), resolved. */
export function generatorFiles(k: Kustomization): Array<{ name: string; key: string; path: string }> {
  const out: Array<{ name: string; key: string; path: string }> = [];
  for (const gen of Array.isArray(k.spec.configMapGenerator) ? k.spec.configMapGenerator : []) {
    if (!isObj(gen) || typeof gen.name !== 'string') continue;
    for (const f of strings(gen.files)) {
      const eq = f.indexOf('=');
      const rel = eq === -1 ? f : f.slice(eq + 1);
      out.push({ name: gen.name, key: eq === -1 ? rel.split('/').pop()! : f.slice(0, eq), path: resolve(dirname(k.file), rel) });
    }
  }
  return out;
}
