/**
 * Offline checks of k8s/ (no kubectl, no cluster, no network):
 *
 *   npx tsx scripts/check-k8s.ts [DIR]      (default DIR: k8s)
 *
 * Renders every kustomization under DIR (the base and each overlay) with the renderer in
 * scripts/k8s/kustomize.ts, and the base once more with each kustomize Component (k8s/monitoring), then:
 *   1. validates every resource against the Kubernetes JSON schemas (kubernetes-models),
 *   2. rejects unknown fields (the same package's types, through tsc),
 *   3. runs the project checks (scripts/k8s/checks.ts): the ConfigMap's sidecar.yaml passes the
 *      sidecar's own validation, probes and ports match it, grace period ≥ drain + margin, security
 *      context, resources, scrape annotations, Service/ServiceMonitor wiring, IRSA annotation.
 * Prints what it rendered and every problem; exits 1 if there is any.
 */
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectProblems } from './k8s/checks.ts';
import { findKustomizations, render, resourceId, type Resource } from './k8s/kustomize.ts';
import { schemaProblems, strictFieldProblems, type Problem } from './k8s/schema.ts';

export interface Variant {
  /** e.g. `k8s`, `k8s/overlays/batch-summarizer`, `k8s + components k8s/monitoring` */
  name: string;
  resources: Resource[];
}

export interface CheckResult {
  variants: Variant[];
  problems: Problem[];
}

/** Renders every variant under `root`. A render failure is itself a problem. */
export function renderAll(root: string): { variants: Variant[]; problems: Problem[] } {
  const name = (dir: string): string => relative(process.cwd(), dir) || '.';
  const { kustomizations, components } = findKustomizations(root);
  const variants: Variant[] = [];
  const problems: Problem[] = [];
  const attempt = (label: string, fn: () => Resource[]): void => {
    try {
      variants.push({ name: label, resources: fn() });
    } catch (error) {
      problems.push({ where: label, message: `cannot render: ${(error as Error).message}` });
    }
  };
  if (kustomizations.length === 0) problems.push({ where: name(root), message: 'no kustomization.yaml found' });
  for (const dir of kustomizations) attempt(name(dir), () => render(dir));
  const base = resolve(root);
  for (const component of components) {
    attempt(`${name(base)} + component ${name(component)}`, () => render(base, { components: [relative(base, component)] }));
  }
  return { variants, problems };
}

/** Runs all checks on already rendered variants (tests pass altered copies). */
export async function checkVariants(variants: readonly Variant[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const v of variants) {
    problems.push(...schemaProblems(v.resources, v.name));
    problems.push(...projectProblems(v.resources, v.name));
  }
  problems.push(...await strictFieldProblems(variants));
  return problems;
}

export async function checkK8s(root = 'k8s'): Promise<CheckResult> {
  const rendered = renderAll(root);
  return { variants: rendered.variants, problems: [...rendered.problems, ...await checkVariants(rendered.variants)] };
}

async function main(): Promise<void> {
  const root = process.argv[2] ?? 'k8s';
  const { variants, problems } = await checkK8s(root);
  for (const v of variants) {
    console.log(`${v.name}: ${v.resources.map(resourceId).join(', ')}`);
  }
  for (const p of problems) console.error(`✗ ${p.where}: ${p.message}`);
  if (problems.length > 0) {
    console.error(`check-k8s: ${problems.length} problem(s) in ${variants.length} rendered variant(s)`);
    process.exit(1);
  }
  console.log(`check-k8s: ${variants.length} variant(s), ${variants.reduce((n, v) => n + v.resources.length, 0)} resources: schema, strict fields and project checks passed`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
