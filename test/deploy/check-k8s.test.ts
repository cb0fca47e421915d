/**
 * k8s/ is checked without a cluster: every kustomization renders with `kubectl kustomize`, passes the
 * Kubernetes schemas, has no unknown field, and passes the project checks. The negative cases alter a
 * rendered copy and expect the problem that names the field, so a check that silently stopped working
 * would fail here. kubectl must be installed (the project's machines have it); without it the check
 * falls back to the files as they are, which the last tests exercise with a kubectl that does not exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import { checkK8s, checkVariants, renderAll, type Variant } from '../../scripts/check-k8s.ts';
import { DRAIN_MARGIN_S, projectProblems } from '../../scripts/k8s/checks.ts';
import { kubectlKustomize } from '../../scripts/k8s/render.ts';
import { podSpecOf, type Resource } from '../../scripts/k8s/resources.ts';
import { schemaProblems, strictFieldProblems } from '../../scripts/k8s/schema.ts';
import { ROOT } from './prod-tree.ts';

const K8S = join(ROOT, 'k8s');

// Rendered manifests are walked freely here; the checks under test do the typing.
type Obj = Record<string, any>;

const rendered = new Map<string, Resource[]>();

/** `kubectl kustomize k8s/<dir>`, rendered once per file and handed out as a fresh copy to alter. */
async function render(dir: string): Promise<Resource[]> {
  if (!rendered.has(dir)) rendered.set(dir, await kubectlKustomize(join(K8S, dir)));
  return structuredClone(rendered.get(dir)!);
}

const baseResources = await render('base');

function base(): Resource[] {
  return structuredClone(baseResources);
}

/** A directory of files for one test, removed afterwards. */
async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'check-k8s-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function find(resources: Resource[], kind: string): Obj {
  const r = resources.find((x) => x.kind === kind);
  assert.ok(r, `no ${kind}`);
  return r;
}

function sidecarOf(resources: Resource[]): Obj {
  const spec = podSpecOf(find(resources, 'Deployment') as Resource) as Obj;
  return spec.initContainers.find((c: Obj) => c.name === 'bedrock-sidecar');
}

function problemsOf(resources: Resource[]): string[] {
  return projectProblems(resources, 'test').map((p) => `${p.where}: ${p.message}`);
}

function expectProblem(resources: Resource[], pattern: RegExp): void {
  const problems = problemsOf(resources);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `expected a problem matching ${pattern}, got:\n${problems.join('\n') || '(none)'}`,
  );
}

function setConfig(resources: Resource[], edit: (text: string) => string): void {
  const cm = find(resources, 'ConfigMap');
  cm.data['sidecar.yaml'] = edit(cm.data['sidecar.yaml']);
}

test('check-k8s: kubectl kustomize renders the base and every overlay, and each passes every check', async () => {
  const { mode, variants, problems, notes } = await checkK8s(K8S);
  assert.deepEqual(problems, []);
  assert.equal(mode, 'kubectl', notes.join('\n'));
  const names = variants.map((v) => v.name.replace(/^.*?k8s/, 'k8s'));
  assert.deepEqual(names, ['k8s/base', 'k8s/overlays/batch-summarizer', 'k8s/overlays/prometheus-operator']);
  // The monitoring Component is rendered through the overlay that uses it.
  assert.ok(variants[2]!.resources.some((r) => r.kind === 'ServiceMonitor'));
});

test('check-k8s: the base is a native sidecar with the probes, security context and identity the issue asks for', () => {
  const resources = base();
  const deployment = find(resources, 'Deployment');
  const spec = deployment.spec.template.spec;
  const sidecar = sidecarOf(resources);
  assert.equal(sidecar.restartPolicy, 'Always');
  assert.ok(!spec.containers.some((c: Obj) => c.name === 'bedrock-sidecar'));
  assert.equal(sidecar.image, 'registry.example.com/bedrock-sidecar:0.1.0');
  assert.deepEqual(
    [sidecar.livenessProbe.httpGet.path, sidecar.readinessProbe.httpGet.path, sidecar.startupProbe.httpGet.path],
    ['/healthz', '/readyz', '/readyz'],
  );
  assert.deepEqual(sidecar.securityContext.capabilities.drop, ['ALL']);
  assert.equal(sidecar.securityContext.readOnlyRootFilesystem, true);
  assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
  const config = parseConfig(find(resources, 'ConfigMap').data['sidecar.yaml'], 'k8s/base/sidecar.yaml');
  assert.ok(spec.terminationGracePeriodSeconds >= config.server.drainTimeoutS + DRAIN_MARGIN_S);
  assert.match(find(resources, 'ServiceAccount').metadata.annotations['eks.amazonaws.com/role-arn'], /^arn:aws:iam::\d{12}:role\//);
  assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], String(config.server.adminPort));
});

test('check-k8s: the batch-summarizer overlay tunes chunking differently, in its own namespace, with its own role', async () => {
  const baseConfig = parseConfig(find(base(), 'ConfigMap').data['sidecar.yaml'], 'base');
  const overlay = await render('overlays/batch-summarizer');
  const config = parseConfig(find(overlay, 'ConfigMap').data['sidecar.yaml'], 'overlay');
  assert.notEqual(config.streaming.streamChunkSize, baseConfig.streaming.streamChunkSize);
  assert.notEqual(config.streaming.maxHoldMs, baseConfig.streaming.maxHoldMs);
  for (const r of overlay.filter((x) => x.kind !== 'Namespace')) assert.equal(r.metadata.namespace, 'batch-summarizer', r.kind);
  assert.match(find(overlay, 'ServiceAccount').metadata.annotations['eks.amazonaws.com/role-arn'], /batch-summarizer/);
  // The strategic merge patch kept everything it did not name.
  const sidecar = sidecarOf(overlay);
  assert.equal(sidecar.resources.limits.memory, '512Mi');
  assert.equal(sidecar.readinessProbe.httpGet.path, '/readyz');
  assert.equal(sidecar.restartPolicy, 'Always');
  const app = find(overlay, 'Deployment').spec.template.spec.containers.find((c: Obj) => c.name === 'app');
  assert.match(app.args[0], /"model":"summarizer"/);
  assert.deepEqual(
    config.models.map((m) => m.name),
    ['summarizer'],
  );
});

test('check-k8s: a grace period too short for the drain is a problem', () => {
  const resources = base();
  find(resources, 'Deployment').spec.template.spec.terminationGracePeriodSeconds = 30;
  expectProblem(
    resources,
    /terminationGracePeriodSeconds: is 30: it must be at least sidecar\.yaml server\.drain_timeout_s \(25\) \+ 10 s/,
  );
  delete find(resources, 'Deployment').spec.template.spec.terminationGracePeriodSeconds;
  expectProblem(resources, /is 30 \(the default\)/);
});

test('check-k8s: a drain_timeout_s raised in sidecar.yaml alone is caught against the grace period', () => {
  const resources = base();
  setConfig(resources, (t) => t.replace(/drain_timeout_s: 25/, 'drain_timeout_s: 55'));
  expectProblem(resources, /terminationGracePeriodSeconds: is 60: .*drain_timeout_s \(55\)/);
});

test('check-k8s: probes on the wrong path or port, or an admin port changed in sidecar.yaml only, are problems', () => {
  let resources = base();
  sidecarOf(resources).readinessProbe.httpGet.path = '/healthz';
  expectProblem(resources, /readinessProbe\.httpGet\.path: is \/healthz/);

  resources = base();
  sidecarOf(resources).livenessProbe.httpGet.port = 4000;
  expectProblem(resources, /livenessProbe\.httpGet\.port: 4000 is port 4000, but sidecar\.yaml has server\.admin_port 9901/);

  resources = base();
  setConfig(resources, (t) => t.replace('admin_port: 9901', 'admin_port: 9902'));
  expectProblem(resources, /startupProbe\.httpGet\.port: admin is port 9901, but sidecar\.yaml has server\.admin_port 9902/);
  expectProblem(resources, /prometheus\.io\/port: is 9901, but \/metrics is on server\.admin_port 9902/);

  resources = base();
  sidecarOf(resources).startupProbe.httpGet.port = 'metrics';
  expectProblem(resources, /startupProbe\.httpGet\.port: metrics names no port of the container/);
});

test('check-k8s: listeners bound where probes cannot reach or where the whole cluster could sign are problems', () => {
  let resources = base();
  setConfig(resources, (t) => t.replace('admin_host: 0.0.0.0', 'admin_host: 127.0.0.1'));
  expectProblem(resources, /server\.admin_host: is 127\.0\.0\.1: the kubelet/);

  resources = base();
  setConfig(resources, (t) => t.replace('host: 127.0.0.1 ', 'host: 0.0.0.0 '));
  expectProblem(resources, /server\.host: is 0\.0\.0\.0 without server\.auth_token/);

  resources = base();
  setConfig(resources, (t) => t.replace('auth_token: ""', 'auth_token: "s3cret"'));
  expectProblem(resources, /auth_token: is set in a ConfigMap, which is not a Secret/);

  resources = base();
  find(resources, 'Deployment').spec.template.spec.containers[0].env[0].value = 'http://127.0.0.1:4001/v1';
  expectProblem(resources, /env\[OPENAI_BASE_URL\]: calls port 4001, but the sidecar listens on server\.port 4000/);
});

test('check-k8s: a sidecar.yaml the sidecar would reject is a problem that names the key and line', () => {
  const resources = base();
  setConfig(resources, (t) => t.replace('stream_chunk_size: 1024', 'stream_chunk_size: 0'));
  expectProblem(
    resources,
    /sidecar\.yaml is rejected by the sidecar: ConfigMap bedrock-sidecar-config-\w+ sidecar\.yaml:\d+: streaming\.stream_chunk_size: must be from 1 to 1048576, got 0/,
  );
});

test('check-k8s: the sidecar as a regular container, or an init container that must exit, is a problem', () => {
  let resources = base();
  const spec = find(resources, 'Deployment').spec.template.spec;
  spec.containers.push(spec.initContainers.shift());
  expectProblem(resources, /containers\[bedrock-sidecar\]: the sidecar must be a native sidecar/);
  expectProblem(resources, /no workload runs bedrock-sidecar as a native sidecar/);

  resources = base();
  delete sidecarOf(resources).restartPolicy;
  expectProblem(resources, /initContainers\[bedrock-sidecar\]\.restartPolicy: must be Always/);
});

test('check-k8s: every weakening of the security context is a problem', () => {
  const cases: Array<[(sc: Obj, pod: Obj) => void, RegExp]> = [
    [
      (sc) => {
        sc.readOnlyRootFilesystem = false;
      },
      /readOnlyRootFilesystem: must be true/,
    ],
    [
      (sc) => {
        delete sc.allowPrivilegeEscalation;
      },
      /allowPrivilegeEscalation: must be false/,
    ],
    [
      (sc) => {
        sc.capabilities = { drop: ['NET_RAW'] };
      },
      /capabilities\.drop: must include ALL/,
    ],
    [
      (sc) => {
        sc.capabilities.add = ['NET_BIND_SERVICE'];
      },
      /capabilities\.add: must be empty/,
    ],
    [
      (sc, pod) => {
        delete sc.runAsNonRoot;
        delete pod.runAsNonRoot;
      },
      /runAsNonRoot: must be true/,
    ],
    [
      (sc) => {
        sc.runAsUser = 0;
      },
      /runAsUser: must not be 0/,
    ],
    [
      (sc, pod) => {
        delete sc.seccompProfile;
        delete pod.seccompProfile;
      },
      /seccompProfile: must be RuntimeDefault/,
    ],
    [
      (sc) => {
        sc.privileged = true;
      },
      /privileged: must not be true/,
    ],
  ];
  for (const [edit, pattern] of cases) {
    const resources = base();
    edit(sidecarOf(resources).securityContext, find(resources, 'Deployment').spec.template.spec.securityContext);
    expectProblem(resources, pattern);
  }
});

test('check-k8s: the config mount must be read-only, a directory, and hold the key the sidecar reads', () => {
  let resources = base();
  sidecarOf(resources).volumeMounts[0].readOnly = false;
  expectProblem(resources, /volumeMounts\[sidecar-config\]\.readOnly: must be true/);

  resources = base();
  Object.assign(sidecarOf(resources).volumeMounts[0], { mountPath: '/etc/bedrock-sidecar/sidecar.yaml', subPath: 'sidecar.yaml' });
  expectProblem(resources, /subPath: a subPath mount never sees ConfigMap updates/);

  resources = base();
  sidecarOf(resources).env.find((e: Obj) => e.name === 'SIDECAR_CONFIG').value = '/etc/bedrock-sidecar/config.yaml';
  expectProblem(resources, /ConfigMap bedrock-sidecar-config-\w+ has no key config\.yaml/);

  resources = base();
  sidecarOf(resources).env.find((e: Obj) => e.name === 'SIDECAR_CONFIG').value = '/config/sidecar.yaml';
  expectProblem(resources, /nothing is mounted at \/config\/sidecar\.yaml/);
});

test('check-k8s: resources, image pinning, scrape annotations and the ServiceAccount are checked', () => {
  let resources = base();
  delete sidecarOf(resources).resources.limits.memory;
  expectProblem(resources, /resources\.limits\.memory: is missing/);

  resources = base();
  sidecarOf(resources).resources.requests.memory = '1Gi';
  expectProblem(resources, /resources\.requests\.memory: exceeds the limit/);

  resources = base();
  sidecarOf(resources).image = 'registry.example.com/bedrock-sidecar:latest';
  expectProblem(resources, /pin a version tag or digest/);

  resources = base();
  delete find(resources, 'Deployment').spec.template.metadata.annotations['prometheus.io/scrape'];
  expectProblem(resources, /prometheus\.io\/scrape: "true" is missing/);

  resources = base();
  find(resources, 'ServiceAccount').metadata.annotations['eks.amazonaws.com/role-arn'] = 'llm-app-bedrock';
  expectProblem(resources, /eks\.amazonaws\.com\/role-arn: llm-app-bedrock is not an IAM role ARN/);

  resources = base().filter((r) => r.kind !== 'ServiceAccount');
  expectProblem(resources, /serviceAccountName: llm-app is not in the rendered resources/);
});

test('check-k8s: a Service or ServiceMonitor that misses the admin port is a problem', async () => {
  const withMonitor = await render('overlays/prometheus-operator');
  assert.deepEqual(problemsOf(withMonitor), []);
  find(withMonitor, 'Service').spec.ports[0].targetPort = 'metrics';
  expectProblem(withMonitor, /port sidecar-admin: targetPort metrics names no container port/);
  find(withMonitor, 'Service').spec.ports[0].name = 'http';
  expectProblem(withMonitor, /endpoint port sidecar-admin is not a named port of the selected Service/);
  find(withMonitor, 'ServiceMonitor').spec.selector.matchLabels = { app: 'other' };
  expectProblem(withMonitor, /selects no Service/);
});

test('check-k8s: schema validation rejects wrong types and enum values', () => {
  const resources = base();
  sidecarOf(resources).ports[0].containerPort = '9901';
  sidecarOf(resources).imagePullPolicy = 'Sometimes';
  const problems = schemaProblems(resources, 'test').map((p) => p.message);
  assert.ok(
    problems.some((m) => /initContainers\/0\/ports\/0\/containerPort must be integer/.test(m)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((m) => /imagePullPolicy must be equal to one of the allowed values \(Always, IfNotPresent, Never\)/.test(m)),
    problems.join('\n'),
  );
  assert.ok(
    schemaProblems([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }], 'test')[0]!.message.startsWith(
      'no schema for example.com/v1/Widget',
    ),
  );
});

test('check-k8s: an unknown field (a typo the API server would drop silently) is a problem that names it', async () => {
  const resources = base();
  const sidecar = sidecarOf(resources);
  sidecar.readinessprobe = sidecar.readinessProbe;
  find(resources, 'Service').spec.selectr = { app: 'x' };
  const problems = await strictFieldProblems([{ name: 'test', resources }]);
  const text = problems.map((p) => `${p.where}: ${p.message}`).join('\n');
  // tsc stops at the first unknown field of each resource: one problem per resource.
  assert.match(
    text,
    /test: Deployment\/llm-app: unknown or mistyped field at spec\.template\.spec\.initContainers\[0\]\.readinessprobe: .*'readinessprobe' does not exist in type 'IContainer'/,
  );
  assert.match(
    text,
    /test: Service\/llm-app-sidecar-metrics: unknown or mistyped field at spec\.selectr: .*'selectr' does not exist in type 'IServiceSpec'/,
  );
  assert.equal(problems.length, 2, text);
});

test('check-k8s: checkVariants reports schema, strict and project problems together', async () => {
  const resources = base();
  sidecarOf(resources).securityContext.readOnlyRootFilesystem = 'yes';
  const variants: Variant[] = [{ name: 'v', resources }];
  const messages = (await checkVariants(variants)).map((p) => `${p.where}: ${p.message}`).join('\n');
  assert.match(messages, /schema: .*readOnlyRootFilesystem must be boolean/);
  assert.match(messages, /unknown or mistyped field at spec\.template\.spec\.initContainers\[0\]\.securityContext\.readOnlyRootFilesystem/);
  assert.match(messages, /readOnlyRootFilesystem: must be true/);
});

test("check-k8s: a render failure is a problem carrying kustomize's own reason, not a throw", async () => {
  await withDir({ 'kustomization.yaml': 'resources: [missing.yaml]\n' }, async (dir) => {
    const { mode, variants, problems } = await renderAll(dir);
    assert.equal(mode, 'kubectl');
    assert.equal(variants.length, 0);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /^cannot render: kubectl kustomize failed: .*missing\.yaml/);
  });
});

test('check-k8s: an overlay inside its own base (the layout kubectl rejects) fails the check', async () => {
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n';
  await withDir(
    {
      'kustomization.yaml': 'resources: [cm.yaml]\n',
      'cm.yaml': cm,
      'overlays/x/kustomization.yaml': 'namespace: x\nresources: [../..]\n',
    },
    async (dir) => {
      const { problems } = await renderAll(dir);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!.where, /overlays\/x$/);
      assert.match(problems[0]!.message, /cycle detected/);
    },
  );
});

test('check-k8s: a Component that no kustomization uses is a problem (nothing would ever check it)', async () => {
  await withDir(
    {
      'base/kustomization.yaml': 'resources: [cm.yaml]\n',
      'base/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n',
      'components/extra/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n',
    },
    async (dir) => {
      const { problems } = await renderAll(dir);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!.where, /components\/extra$/);
      assert.match(problems[0]!.message, /used by no kustomization/);
    },
  );
});

test('check-k8s: without kubectl it says so and validates the listed resource files as they are', async () => {
  const result = await checkK8s(K8S, { kubectl: 'kubectl-that-is-not-installed' });
  assert.equal(result.mode, 'files');
  assert.match(result.notes.join('\n'), /kubectl-that-is-not-installed not found: the kustomizations are not rendered/);
  assert.deepEqual(result.problems, []);
  const files = result.variants.map((v) => v.name.replace(/^.*?k8s/, 'k8s'));
  assert.ok(files.includes('k8s/base/deployment.yaml'));
  assert.ok(files.includes('k8s/components/monitoring/servicemonitor.yaml'));
  assert.ok(!files.some((f) => f.includes('patch')), 'patches are partial objects, not resources');
});

test('check-k8s: without kubectl a schema error, an unknown field or a rejected sidecar.yaml in the files is still found', async () => {
  const deployment =
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: "two"\n' +
    '  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i}]\n';
  await withDir(
    {
      'kustomization.yaml': 'resources: [deployment.yaml, service.yaml]\nconfigMapGenerator:\n  - name: cfg\n    files: [sidecar.yaml]\n',
      'deployment.yaml': deployment,
      'service.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selectr: {a: b}\n  ports: [{port: 80}]\n',
      'sidecar.yaml': 'streaming:\n  stream_chunk_size: 0\n',
    },
    async (dir) => {
      const { mode, problems } = await checkK8s(dir, { kubectl: 'kubectl-that-is-not-installed' });
      assert.equal(mode, 'files');
      const text = problems.map((p) => `${p.where}: ${p.message}`).join('\n');
      assert.match(text, /deployment\.yaml: Deployment\/d: schema: \/spec\/replicas must be integer/);
      assert.match(text, /service\.yaml: Service\/s: unknown or mistyped field at spec\.selectr/);
      assert.match(text, /sidecar\.yaml: rejected by the sidecar: .*streaming\.stream_chunk_size: must be from 1 to 1048576, got 0/);
    },
  );
});
