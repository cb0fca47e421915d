/**
 * Project checks on rendered manifests: what no Kubernetes schema knows about bedrock-sidecar.
 *
 * For every workload that runs the sidecar (a container named `bedrock-sidecar`, or running an image of
 * that name): it is a native sidecar; the sidecar.yaml it reads (from a ConfigMap in the same render)
 * passes the sidecar's own validation (`parseConfig`); probe paths and ports match that config; the
 * listeners are reachable where they must be (admin for the kubelet, proxy on loopback only); the grace
 * period covers the drain; the security context is non-root, read-only, without privilege escalation or
 * capabilities, under seccomp; resources are set; scrape annotations, Services and ServiceMonitors point
 * at the admin port; the ServiceAccount exists and its IRSA annotation is an IAM role ARN.
 *
 * Pure: resources in, problems out. Every message names the variant, the resource and the field.
 */
import { posix } from 'node:path';
import { parseConfig } from '../../src/config/load.ts';
import type { SidecarConfig } from '../../src/config/schema.ts';
import { parseImage, podSpecOf, resourceId, type Resource } from './resources.ts';
import type { Problem } from './schema.ts';

/** A YAML value as a message shows it: a string as written, anything else as JSON (`1.2`, `{"a":1}`). */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
}

export const SIDECAR_NAME = 'bedrock-sidecar';
/** The Dockerfile's `ENV SIDECAR_CONFIG` (test/deploy checks the two agree). */
export const IMAGE_DEFAULT_CONFIG = '/etc/bedrock-sidecar/sidecar.yaml';
/**
 * terminationGracePeriodSeconds must be at least drain_timeout_s plus this: after the drain deadline
 * the sidecar gives streams 2 s to write their error frame and closes connections within 1 s more; the
 * rest is slack for a slow node. The app's own shutdown time comes on top (native sidecars stop last).
 */
export const DRAIN_MARGIN_S = 10;
const PROBES = { livenessProbe: '/healthz', readinessProbe: '/readyz', startupProbe: '/readyz' } as const;
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod']);
const ROLE_ARN = /^arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : {};
}

function objs(value: unknown): Obj[] {
  return Array.isArray(value) ? value.map(obj) : [];
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Kubernetes quantities → a number in base units (cores, bytes). */
export function quantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (!m) return undefined;
  const scale: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1);
}

function sameNamespace(a: Resource, b: Resource): boolean {
  return (a.metadata.namespace ?? '') === (b.metadata.namespace ?? '');
}

function labelsMatch(selector: Record<string, unknown>, labels: Record<string, unknown> | undefined): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** Where the sidecar reads its config: `--config` wins over SIDECAR_CONFIG, as in src/main.ts. */
function configPathOf(container: Obj): string {
  const args = [
    ...(Array.isArray(container.command) ? container.command : []),
    ...(Array.isArray(container.args) ? container.args : []),
  ].map(String);
  const at = args.indexOf('--config');
  if (at !== -1 && args[at + 1]) return posix.resolve('/app', args[at + 1]!);
  const inline = args.find((a) => a.startsWith('--config='));
  if (inline) return posix.resolve('/app', inline.slice('--config='.length));
  const env = objs(container.env).find((e) => e.name === 'SIDECAR_CONFIG');
  return typeof env?.value === 'string' ? env.value : IMAGE_DEFAULT_CONFIG;
}

export function projectProblems(resources: readonly Resource[], variant: string): Problem[] {
  const problems: Problem[] = [];
  let sidecars = 0;
  for (const r of resources) {
    if (!WORKLOAD_KINDS.has(r.kind)) continue;
    const spec = podSpecOf(r);
    if (!spec) continue;
    const where = (field: string): string => `${variant}: ${resourceId(r)} ${field}`.trimEnd();
    const add = (field: string, message: string): void => {
      problems.push({ where: where(field), message });
    };
    const isSidecar = (c: Obj): boolean =>
      c.name === SIDECAR_NAME || (typeof c.image === 'string' && parseImage(c.image).name.split('/').pop() === SIDECAR_NAME);
    const regular = objs(spec.containers);
    const inits = objs(spec.initContainers);
    for (const c of regular.filter(isSidecar)) {
      add(
        `containers[${String(c.name)}]`,
        'the sidecar must be a native sidecar: an initContainer with restartPolicy: Always (it then starts before the app and stops after it)',
      );
    }
    for (const c of inits.filter(isSidecar)) {
      sidecars++;
      checkSidecar(r, spec, c, resources, `initContainers[${String(c.name)}]`, add);
    }
  }
  if (sidecars === 0) problems.push({ where: variant, message: `no workload runs ${SIDECAR_NAME} as a native sidecar` });

  for (const sm of resources.filter((r) => r.kind === 'ServiceMonitor')) checkServiceMonitor(sm, resources, variant, problems);
  return problems;
}

function checkSidecar(
  workload: Resource,
  spec: Obj,
  c: Obj,
  resources: readonly Resource[],
  at: string,
  add: (field: string, message: string) => void,
): void {
  if (c.restartPolicy !== 'Always')
    add(`${at}.restartPolicy`, 'must be Always (a native sidecar); without it the init container would have to exit before the app starts');

  // --- image
  if (typeof c.image !== 'string' || c.image === '') add(`${at}.image`, 'is missing');
  else {
    const image = parseImage(c.image);
    if (!image.digest && (image.tag === undefined || image.tag === 'latest'))
      add(`${at}.image`, `${c.image}: pin a version tag or digest, not latest`);
  }

  // --- the config it reads
  const config = loadSidecarConfig(workload, spec, c, resources, at, add);

  // --- probes and ports
  const ports = objs(c.ports);
  const portOf = (value: unknown): number | undefined => {
    if (typeof value === 'number') return value;
    const named = ports.find((p) => p.name === value);
    return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
  };
  for (const [probe, path] of Object.entries(PROBES)) {
    const p = obj(c[probe]);
    if (!c[probe]) {
      add(`${at}.${probe}`, `is missing (expected httpGet ${path} on the admin port)`);
      continue;
    }
    const get = obj(p.httpGet);
    if (!p.httpGet) {
      add(`${at}.${probe}`, `must be an httpGet on ${path}`);
      continue;
    }
    if (get.path !== path)
      add(
        `${at}.${probe}.httpGet.path`,
        `is ${String(get.path)}; the sidecar answers ${probe === 'livenessProbe' ? 'liveness on /healthz' : 'readiness on /readyz'}`,
      );
    if (get.host !== undefined) add(`${at}.${probe}.httpGet.host`, 'must be unset (the kubelet probes the pod IP)');
    if (get.scheme !== undefined && get.scheme !== 'HTTP')
      add(`${at}.${probe}.httpGet.scheme`, 'must be HTTP: the admin listener has no TLS');
    const port = portOf(get.port);
    if (port === undefined) add(`${at}.${probe}.httpGet.port`, `${String(get.port)} names no port of the container`);
    else if (config && port !== config.server.adminPort) {
      add(
        `${at}.${probe}.httpGet.port`,
        `${String(get.port)} is port ${port}, but sidecar.yaml has server.admin_port ${config.server.adminPort}`,
      );
    }
  }
  if (config) {
    const { server } = config;
    if (server.adminPort === 0)
      add(`${at} sidecar.yaml server.admin_port`, 'is 0 (any free port): probes and Prometheus need a fixed port');
    if (server.port === 0) add(`${at} sidecar.yaml server.port`, 'is 0 (any free port): the app needs a fixed port to call');
    if (isLoopback(server.adminHost))
      add(
        `${at} sidecar.yaml server.admin_host`,
        `is ${server.adminHost}: the kubelet and Prometheus reach the pod IP, so probes would fail`,
      );
    if (!isLoopback(server.host) && server.authToken === '') {
      add(
        `${at} sidecar.yaml server.host`,
        `is ${server.host} without server.auth_token: anyone reaching the pod could call Bedrock as its role; keep 127.0.0.1`,
      );
    }
    if (server.authToken !== '')
      add(`${at} sidecar.yaml server.auth_token`, 'is set in a ConfigMap, which is not a Secret: mount sidecar.yaml from a Secret instead');
    for (const container of objs(spec.containers)) {
      for (const env of objs(container.env)) {
        const m = typeof env.value === 'string' ? /^https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)\/v1\b/.exec(env.value) : null;
        if (m && Number(m[1]) !== server.port) {
          add(
            `containers[${String(container.name)}].env[${String(env.name)}]`,
            `calls port ${m[1]}, but the sidecar listens on server.port ${server.port}`,
          );
        }
      }
    }
    // --- shutdown: the grace period covers the drain
    const grace = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    if (grace < server.drainTimeoutS + DRAIN_MARGIN_S) {
      add(
        'terminationGracePeriodSeconds',
        `is ${grace}${spec.terminationGracePeriodSeconds === undefined ? ' (the default)' : ''}: it must be at least sidecar.yaml server.drain_timeout_s (${server.drainTimeoutS}) + ${DRAIN_MARGIN_S} s, or the kubelet kills streams the sidecar is still draining`,
      );
    }
    // --- scrape annotations
    const annotations = obj(obj(obj(obj(workload.spec).template).metadata).annotations);
    if (annotations['prometheus.io/scrape'] !== 'true') add('template annotations', 'prometheus.io/scrape: "true" is missing');
    else {
      if (annotations['prometheus.io/port'] !== String(server.adminPort)) {
        add(
          'template annotations prometheus.io/port',
          `is ${String(annotations['prometheus.io/port'])}, but /metrics is on server.admin_port ${server.adminPort}`,
        );
      }
      const path = annotations['prometheus.io/path'];
      if (path !== undefined && path !== '/metrics')
        add('template annotations prometheus.io/path', `is ${shown(path)}, the sidecar serves /metrics`);
    }
  }

  // --- security
  const sc = obj(c.securityContext);
  const pod = obj(spec.securityContext);
  const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  const runAsUser = sc.runAsUser ?? pod.runAsUser;
  const seccomp = obj(sc.seccompProfile ?? pod.seccompProfile).type;
  if (runAsNonRoot !== true) add(`${at}.securityContext.runAsNonRoot`, 'must be true');
  if (runAsUser === 0) add(`${at}.securityContext.runAsUser`, 'must not be 0');
  if (sc.allowPrivilegeEscalation !== false) add(`${at}.securityContext.allowPrivilegeEscalation`, 'must be false');
  if (sc.readOnlyRootFilesystem !== true) add(`${at}.securityContext.readOnlyRootFilesystem`, 'must be true (the sidecar writes no file)');
  if (sc.privileged === true) add(`${at}.securityContext.privileged`, 'must not be true');
  const caps = obj(sc.capabilities);
  if (!Array.isArray(caps.drop) || !caps.drop.includes('ALL')) add(`${at}.securityContext.capabilities.drop`, 'must include ALL');
  if (Array.isArray(caps.add) && caps.add.length > 0)
    add(`${at}.securityContext.capabilities.add`, 'must be empty: the sidecar binds ports above 1024 and needs no capability');
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
    add(`${at}.securityContext.seccompProfile`, 'must be RuntimeDefault (or Localhost), on the container or the pod');

  // --- resources
  const resourcesOf = obj(c.resources);
  for (const kind of ['requests', 'limits'] as const) {
    for (const name of ['cpu', 'memory'] as const) {
      const value = obj(resourcesOf[kind])[name];
      if (value === undefined) add(`${at}.resources.${kind}.${name}`, 'is missing');
      else if (quantity(value) === undefined) add(`${at}.resources.${kind}.${name}`, `${shown(value)} is not a quantity`);
    }
  }
  for (const name of ['cpu', 'memory'] as const) {
    const request = quantity(obj(resourcesOf.requests)[name]);
    const limit = quantity(obj(resourcesOf.limits)[name]);
    if (request !== undefined && limit !== undefined && request > limit) add(`${at}.resources.requests.${name}`, 'exceeds the limit');
  }

  // --- identity
  const saName = typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : 'default';
  if (saName !== 'default') {
    const sa = resources.find((x) => x.kind === 'ServiceAccount' && x.metadata.name === saName && sameNamespace(x, workload));
    if (!sa) add('serviceAccountName', `${saName} is not in the rendered resources`);
    else {
      const arn = sa.metadata.annotations?.['eks.amazonaws.com/role-arn'];
      if (arn !== undefined && !ROLE_ARN.test(arn))
        add(`(ServiceAccount ${saName}) eks.amazonaws.com/role-arn`, `${arn} is not an IAM role ARN`);
    }
  }

  // --- Deployment selector ⊆ template labels
  const selector = obj(obj(workload.spec).selector).matchLabels;
  const templateLabels = obj(obj(obj(workload.spec).template).metadata).labels as Record<string, unknown> | undefined;
  if (selector && !labelsMatch(obj(selector), templateLabels)) add('spec.selector', 'does not match the pod template labels');

  // --- Services over the pod: every targetPort resolves
  const allPorts = [...objs(spec.containers), ...objs(spec.initContainers)].flatMap((x) => objs(x.ports));
  for (const svc of resources.filter((x) => x.kind === 'Service' && sameNamespace(x, workload))) {
    const svcSpec = obj(svc.spec);
    if (!labelsMatch(obj(svcSpec.selector), templateLabels)) continue;
    for (const p of objs(svcSpec.ports)) {
      const target = p.targetPort ?? p.port;
      if (typeof target === 'string' && !allPorts.some((x) => x.name === target)) {
        add(`(Service ${svc.metadata.name}) port ${String(p.name ?? p.port)}`, `targetPort ${target} names no container port of the pod`);
      }
    }
  }
}

function loadSidecarConfig(
  workload: Resource,
  spec: Obj,
  c: Obj,
  resources: readonly Resource[],
  at: string,
  add: (field: string, message: string) => void,
): SidecarConfig | undefined {
  const path = configPathOf(c);
  const mounts = objs(c.volumeMounts).filter(
    (m) => typeof m.mountPath === 'string' && (path === m.mountPath || path.startsWith(`${String(m.mountPath).replace(/\/$/, '')}/`)),
  );
  const mount = mounts.sort((a, b) => String(b.mountPath).length - String(a.mountPath).length)[0];
  if (!mount) {
    add(`${at}.volumeMounts`, `nothing is mounted at ${path}, where the sidecar reads its config`);
    return undefined;
  }
  if (mount.readOnly !== true) add(`${at}.volumeMounts[${String(mount.name)}].readOnly`, 'must be true');
  if (mount.subPath !== undefined || mount.subPathExpr !== undefined) {
    add(`${at}.volumeMounts[${String(mount.name)}].subPath`, 'a subPath mount never sees ConfigMap updates; mount the directory');
  }
  const volume = objs(spec.volumes).find((v) => v.name === mount.name);
  if (!volume) {
    add(`${at}.volumeMounts[${String(mount.name)}]`, 'names no volume of the pod');
    return undefined;
  }
  const source = obj(volume.configMap);
  if (!volume.configMap || typeof source.name !== 'string') {
    add(`volumes[${String(volume.name)}]`, 'the sidecar config must come from a ConfigMap in these manifests, so it can be checked');
    return undefined;
  }
  const relative = mount.subPath !== undefined ? shown(mount.subPath) : posix.relative(String(mount.mountPath), path);
  const item = objs(source.items).find((i) => i.path === relative);
  const key = item ? String(item.key) : relative;
  const cm = resources.find((x) => x.kind === 'ConfigMap' && x.metadata.name === source.name && sameNamespace(x, workload));
  if (!cm) {
    add(`volumes[${String(volume.name)}]`, `ConfigMap ${source.name} is not in the rendered resources`);
    return undefined;
  }
  const text = obj(cm.data)[key];
  if (typeof text !== 'string') {
    add(`volumes[${String(volume.name)}]`, `ConfigMap ${source.name} has no key ${key} (the sidecar reads ${path})`);
    return undefined;
  }
  try {
    return parseConfig(text, `ConfigMap ${source.name} ${key}`);
  } catch (error) {
    add(`(ConfigMap ${source.name})`, `sidecar.yaml is rejected by the sidecar: ${(error as Error).message}`);
    return undefined;
  }
}

function checkServiceMonitor(sm: Resource, resources: readonly Resource[], variant: string, problems: Problem[]): void {
  const where = `${variant}: ${resourceId(sm)}`;
  const spec = obj(sm.spec);
  const selector = obj(obj(spec.selector).matchLabels);
  const services = resources.filter((r) => r.kind === 'Service' && sameNamespace(r, sm) && labelsMatch(selector, r.metadata.labels));
  if (services.length === 0) {
    problems.push({ where, message: 'spec.selector.matchLabels selects no Service in the rendered resources' });
    return;
  }
  const endpoints = objs(spec.endpoints);
  if (endpoints.length === 0) problems.push({ where, message: 'spec.endpoints is empty' });
  for (const e of endpoints) {
    const named = services.some((s) => objs(obj(s.spec).ports).some((p) => p.name === e.port));
    if (!named) problems.push({ where, message: `endpoint port ${String(e.port)} is not a named port of the selected Service` });
    if (e.path !== undefined && e.path !== '/metrics')
      problems.push({ where, message: `endpoint path ${shown(e.path)}: the sidecar serves /metrics` });
  }
}
