/**
 * Checks of k8s/ without a cluster or a network:
 *
 *   node --import tsx scripts/check-k8s.ts [DIR]      (default DIR: k8s; $KUBECTL names another kubectl)
 *
 * Renders every kustomization under DIR (k8s/base and each k8s/overlays/*) with `kubectl kustomize`, the
 * renderer `kubectl apply -k` uses, then on each rendered variant:
 *   1. validates every resource against the Kubernetes JSON schemas (kubernetes-models),
 *   2. rejects unknown fields (the same package's types, through tsc),
 *   3. runs the project checks (scripts/k8s/checks.ts): the ConfigMap's sidecar.yaml passes the
 *      sidecar's own validation, probes and ports match it, grace period ≥ drain + margin, security
 *      context, resources, scrape annotations, Service/ServiceMonitor wiring, IRSA annotation.
 * A Component (k8s/components/*) is checked through the overlays that use it; one no overlay uses is a
 * problem, since nothing would ever render it.
 *
 * Without kubectl the check says so and validates the resource files the kustomizations list as they are
 * (1 and 2, and every generated sidecar.yaml against the sidecar's config validation); the project
 * checks need the rendered pod and are skipped.
 * Prints what it checked and every problem; exits 1 if there is any.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../src/config/load.ts';
import { projectProblems } from './k8s/checks.ts';
import {
  filesAsTheyAre,
  findKustomizations,
  generatorFiles,
  KubectlMissing,
  kubectlKustomize,
  usedComponents,
  type Kustomization,
} from './k8s/render.ts';
import { resourceId, type Resource } from './k8s/resources.ts';
import { schemaProblems, strictFieldProblems, type Problem } from './k8s/schema.ts';

export interface Variant {
  /** e.g. `k8s/base`, `k8s/overlays/batch-summarizer`; without kubectl, a resource file. */
  name: string;
  resources: Resource[];
}

export interface CheckOptions {
  /** The kubectl to run (default `kubectl`). */
  kubectl?: string;
}

export interface RenderResult {
  /** `kubectl`: rendered variants; `files`: kubectl is missing, the variants are resource files as they are. */
  mode: 'kubectl' | 'files';
  variants: Variant[];
  problems: Problem[];
  /** What the check could not do, for the user to read. */
  notes: string[];
}

export type CheckResult = RenderResult;

const name = (path: string): string => relative(process.cwd(), path) || '.';

/** Renders every kustomization under `root`. A render failure is itself a problem. */
export async function renderAll(root: string, options: CheckOptions = {}): Promise<RenderResult> {
  const kubectl = options.kubectl ?? 'kubectl';
  const problems: Problem[] = [];
  let all: Kustomization[];
  try {
    all = findKustomizations(root);
  } catch (error) {
    return { mode: 'kubectl', variants: [], problems: [{ where: name(root), message: (error as Error).message }], notes: [] };
  }
  const kustomizations = all.filter((k) => k.kind === 'Kustomization');
  if (kustomizations.length === 0) problems.push({ where: name(root), message: 'no kustomization.yaml found' });
  const used = usedComponents(all);
  for (const c of all.filter((k) => k.kind === 'Component' && !used.has(k.dir))) {
    problems.push({
      where: name(c.dir),
      message: 'this Component is used by no kustomization here, so nothing renders or checks it; add it to an overlay',
    });
  }

  const variants: Variant[] = [];
  for (const k of kustomizations) {
    try {
      variants.push({ name: name(k.dir), resources: await kubectlKustomize(k.dir, kubectl) });
    } catch (error) {
      if (error instanceof KubectlMissing) return filesMode(all, problems, kubectl);
      problems.push({ where: name(k.dir), message: `cannot render: ${(error as Error).message}` });
    }
  }
  return { mode: 'kubectl', variants, problems, notes: [] };
}

function filesMode(all: readonly Kustomization[], problems: Problem[], kubectl: string): RenderResult {
  const variants: Variant[] = [];
  try {
    for (const f of filesAsTheyAre(all)) variants.push({ name: name(f.file), resources: f.resources });
  } catch (error) {
    problems.push({ where: 'k8s files', message: (error as Error).message });
  }
  for (const k of all) {
    for (const g of generatorFiles(k).filter((x) => x.key === 'sidecar.yaml')) {
      try {
        parseConfig(readFileSync(g.path, 'utf8'), name(g.path));
      } catch (error) {
        problems.push({ where: name(g.path), message: `rejected by the sidecar: ${(error as Error).message}` });
      }
    }
  }
  const note =
    `${kubectl} not found: the kustomizations are not rendered. Validated ${variants.length} resource file(s) as they are ` +
    '(schemas, unknown fields, each sidecar.yaml); the project checks (probes, ports, grace period, security, wiring) need the ' +
    'rendered output and were skipped. Install kubectl for the full check.';
  return { mode: 'files', variants, problems, notes: [note] };
}

/** Runs all checks on already rendered variants (tests pass altered copies). */
export async function checkVariants(variants: readonly Variant[], mode: RenderResult['mode'] = 'kubectl'): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const v of variants) {
    problems.push(...schemaProblems(v.resources, v.name));
    if (mode === 'kubectl') problems.push(...projectProblems(v.resources, v.name));
  }
  problems.push(...(await strictFieldProblems(variants)));
  return problems;
}

export async function checkK8s(root = 'k8s', options: CheckOptions = {}): Promise<CheckResult> {
  const rendered = await renderAll(root, options);
  return { ...rendered, problems: [...rendered.problems, ...(await checkVariants(rendered.variants, rendered.mode))] };
}

async function main(): Promise<void> {
  const root = process.argv[2] ?? 'k8s';
  const { mode, variants, problems, notes } = await checkK8s(root, { kubectl: process.env.KUBECTL || 'kubectl' });
  for (const note of notes) console.error(`check-k8s: ${note}`);
  for (const v of variants) {
    console.log(`${v.name}: ${v.resources.map(resourceId).join(', ')}`);
  }
  for (const p of problems) console.error(`✗ ${p.where}: ${p.message}`);
  const what = mode === 'kubectl' ? 'rendered variant(s)' : 'resource file(s)';
  if (problems.length > 0) {
    console.error(`check-k8s: ${problems.length} problem(s) in ${variants.length} ${what}`);
    process.exit(1);
  }
  const checks =
    mode === 'kubectl' ? 'schema, strict fields and project checks' : 'schema and strict fields (no kubectl: project checks skipped)';
  console.log(`check-k8s: ${variants.length} ${what}, ${variants.reduce((n, v) => n + v.resources.length, 0)} resources: ${checks} passed`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
