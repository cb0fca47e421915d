/**
 * Kubernetes schema validation, offline, with the `kubernetes-models` package: its validators are
 * compiled from the Kubernetes OpenAPI schemas and ship inside the package, so CI needs no network and no
 * binary (kubeconform would need both, or schemas vendored by hand). Two layers:
 *
 *  1. `schemaProblems`: each resource against its kind's JSON schema (types, enums, required fields).
 *  2. `strictFieldProblems`: unknown fields. The Kubernetes schemas allow extra properties, so a typo
 *     like `readinessprobe` passes layer 1 and the API server would drop it silently. The package's
 *     TypeScript types list every field, so the resources are written out as object literals typed with
 *     them and given to `tsc`, whose excess-property check names a field Kubernetes does not know (the
 *     first one in each resource: fix it and run again).
 *
 * Kinds without a schema here (custom resources such as the Prometheus Operator's ServiceMonitor) are
 * listed in SCHEMALESS_KINDS and left to the project checks; any other kind is a problem, so nothing
 * passes unchecked by omission.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { resourceId, type Resource } from './resources.ts';

export interface Problem {
  /** The rendered variant (a kustomization directory) and resource the problem is in. */
  where: string;
  message: string;
}

interface Model {
  validate(): void;
}

/** apiVersion/kind → model class, and the module and interface `tsc` checks unknown fields against. */
const KINDS: Record<string, { model: new (data: never) => Model; module: string; type: string }> = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Namespace': { model: Namespace, module: 'kubernetes-models/v1/Namespace', type: 'INamespace' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/ServiceAccount': { model: ServiceAccount, module: 'kubernetes-models/v1/ServiceAccount', type: 'IServiceAccount' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, module: 'kubernetes-models/apps/v1/StatefulSet', type: 'IStatefulSet' },
  'apps/v1/DaemonSet': { model: DaemonSet, module: 'kubernetes-models/apps/v1/DaemonSet', type: 'IDaemonSet' },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    model: NetworkPolicy,
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
};

/** Custom resources the project checks cover instead (no schema ships for them here). */
export const SCHEMALESS_KINDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);

function kindKey(r: Resource): string {
  return `${r.apiVersion}/${r.kind}`;
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

export function schemaProblems(resources: readonly Resource[], variant: string): Problem[] {
  const problems: Problem[] = [];
  for (const r of resources) {
    const where = `${variant}: ${resourceId(r)}`;
    const entry = KINDS[kindKey(r)];
    if (!entry) {
      if (!SCHEMALESS_KINDS.has(kindKey(r)))
        problems.push({ where, message: `no schema for ${kindKey(r)}: add it to scripts/k8s/schema.ts` });
      continue;
    }
    try {
      new entry.model(structuredClone(r) as never).validate();
    } catch (error) {
      const errors = (error as { errors?: AjvError[] }).errors;
      if (!errors?.length) {
        problems.push({ where, message: `schema: ${(error as Error).message}` });
        continue;
      }
      for (const e of errors) {
        const allowed = Array.isArray(e.params?.allowedValues) ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
        problems.push({ where, message: `schema: ${e.instancePath || '/'} ${e.message ?? 'is invalid'}${allowed}` });
      }
    }
  }
  return problems;
}

/** Pretty JSON, one key per line, with the path of every line (so a `tsc` line number names a field). */
function render(value: unknown, path: string, indent: string, lines: string[], paths: string[]): void {
  const last = lines.length - 1;
  if (Array.isArray(value)) {
    lines[last] += '[';
    value.forEach((item, i) => {
      lines.push(`${indent}  `);
      paths.push(`${path}[${i}]`);
      render(item, `${path}[${i}]`, `${indent}  `, lines, paths);
      if (i < value.length - 1) lines[lines.length - 1] += ',';
    });
    lines.push(`${indent}]`);
    paths.push(path);
  } else if (typeof value === 'object' && value !== null) {
    lines[last] += '{';
    const entries = Object.entries(value);
    entries.forEach(([key, item], i) => {
      const at = path ? `${path}.${key}` : key;
      lines.push(`${indent}  ${JSON.stringify(key)}: `);
      paths.push(at);
      render(item, at, `${indent}  `, lines, paths);
      if (i < entries.length - 1) lines[lines.length - 1] += ',';
    });
    lines.push(`${indent}}`);
    paths.push(path);
  } else {
    lines[last] += JSON.stringify(value);
  }
}

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Unknown-field check of every resource whose kind has types here (see the module comment). One `tsc`
 * run for all variants; ~0.3 s.
 */
export async function strictFieldProblems(variants: ReadonlyArray<{ name: string; resources: readonly Resource[] }>): Promise<Problem[]> {
  const lines: string[] = [];
  const paths: string[] = [];
  const owners: string[] = [];
  const imports = new Map<string, string>(); // module → interface name
  let n = 0;
  for (const { name, resources } of variants) {
    for (const r of resources) {
      const entry = KINDS[kindKey(r)];
      if (!entry) continue;
      imports.set(entry.module, entry.type);
      const start = lines.length;
      lines.push(`export const r${n++}: ${entry.type} = `);
      paths.push('');
      render(r, '', '', lines, paths);
      lines[lines.length - 1] += ';';
      for (let i = start; i < lines.length; i++) owners[i] = `${name}: ${resourceId(r)}`;
    }
  }
  const header = [...imports].map(([module, type]) => `import type { ${type} } from '${module}';`);
  const dir = mkdtempSync(join(tmpdir(), 'check-k8s-'));
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'resources.ts'), [...header, ...lines].join('\n') + '\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          skipLibCheck: true,
          types: [],
        },
        files: ['resources.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', '@typescript', 'native', 'bin', 'tsc');
    const output = await promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
      () => '',
      (error: { stdout?: string; stderr?: string; message: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}` || error.message,
    );
    const problems: Problem[] = [];
    for (const line of output.split('\n').filter(Boolean)) {
      const m = /^resources\.ts\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line.trim());
      if (!m) {
        problems.push({ where: 'strict field check', message: line.trim() });
        continue;
      }
      const index = Number(m[1]) - 1 - header.length;
      const field = paths[index] ?? '?';
      problems.push({
        where: owners[index] ?? 'strict field check',
        message: `unknown or mistyped field at ${field || '/'}: ${m[3]!.replace(/'"([^"]+)"'/g, "'$1'")} (${m[2]})`,
      });
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
