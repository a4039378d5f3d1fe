// deploy/kubernetes/: every manifest parses, and the fields that must agree do:
// the kustomization lists the folder, selectors match the pod labels, probes
// and Service ports name real container ports, the pod runs non-root on a
// read-only root, and every SLOTWAY_* variable is a real option of Slotway.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { OPTION_DEFINITIONS, envName, parseValue } from '../../../src/config/options.js';

const root = new URL('../../../../', import.meta.url);
const folder = new URL('deploy/kubernetes/', root);

type Labels = Readonly<Record<string, string>>;
interface LabelSelector {
  readonly matchLabels?: Labels;
}
interface Metadata {
  readonly name?: string;
  readonly labels?: Labels;
}
interface Manifest {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: Metadata;
}

interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}
interface Probe {
  readonly httpGet?: { readonly path?: string; readonly port?: number | string };
}
interface SecurityContext {
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly privileged?: boolean;
  readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
  readonly seccompProfile?: { readonly type?: string };
}
interface Container {
  readonly name: string;
  readonly image?: string;
  readonly ports?: readonly ContainerPort[];
  readonly env?: readonly { readonly name: string; readonly value?: string }[];
  readonly envFrom?: readonly {
    readonly configMapRef?: { readonly name: string };
    readonly secretRef?: { readonly name: string };
  }[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly lifecycle?: { readonly preStop?: { readonly exec?: { readonly command?: readonly string[] } } };
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
  readonly securityContext?: SecurityContext;
}
interface Volume {
  readonly name: string;
  readonly secret?: {
    readonly secretName: string;
    readonly items?: readonly { readonly key: string; readonly path: string }[];
  };
  readonly emptyDir?: object;
}
interface AffinityTerm {
  readonly weight: number;
  readonly podAffinityTerm: { readonly topologyKey: string; readonly labelSelector?: LabelSelector };
}
interface PodSpec {
  readonly containers: readonly Container[];
  readonly volumes?: readonly Volume[];
  readonly securityContext?: SecurityContext & { readonly fsGroup?: number };
  readonly terminationGracePeriodSeconds?: number;
  readonly enableServiceLinks?: boolean;
  readonly automountServiceAccountToken?: boolean;
  readonly affinity?: {
    readonly podAntiAffinity?: { readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly AffinityTerm[] };
  };
}
interface Deployment extends Manifest {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: LabelSelector;
    readonly template: { readonly metadata: Metadata; readonly spec: PodSpec };
  };
}
interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
}
interface Service extends Manifest {
  readonly spec: { readonly type?: string; readonly selector?: Labels; readonly ports: readonly ServicePort[] };
}
interface ConfigMap extends Manifest {
  readonly data?: Readonly<Record<string, string>>;
}
interface Secret extends Manifest {
  readonly data?: Readonly<Record<string, string>>;
  readonly stringData?: Readonly<Record<string, string>>;
}
interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: object;
}
interface PolicyPort {
  readonly port?: number | string;
  readonly protocol?: string;
}
interface PolicyRule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}
interface NetworkPolicy extends Manifest {
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: readonly PolicyRule[];
    readonly egress?: readonly PolicyRule[];
  };
}
interface PodDisruptionBudget extends Manifest {
  readonly spec: {
    readonly minAvailable?: number | string;
    readonly maxUnavailable?: number | string;
    readonly selector: LabelSelector;
  };
}
interface ScalingPolicy {
  readonly type: string;
  readonly value: number;
  readonly periodSeconds: number;
}
interface ScalingRules {
  readonly stabilizationWindowSeconds?: number;
  readonly selectPolicy?: string;
  readonly policies?: readonly ScalingPolicy[];
}
interface HorizontalPodAutoscaler extends Manifest {
  readonly spec: {
    readonly scaleTargetRef: { readonly apiVersion?: string; readonly kind: string; readonly name: string };
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly metrics?: readonly {
      readonly type: string;
      readonly resource?: {
        readonly name: string;
        readonly target: { readonly type: string; readonly averageUtilization?: number };
      };
    }[];
    readonly behavior?: { readonly scaleUp?: ScalingRules; readonly scaleDown?: ScalingRules };
  };
}
interface ServiceMonitor extends Manifest {
  readonly spec: {
    readonly selector: LabelSelector;
    readonly endpoints: readonly { readonly port?: string; readonly path?: string }[];
  };
}
interface Kustomization extends Manifest {
  readonly resources?: readonly string[];
  readonly images?: readonly { readonly name: string; readonly newName?: string; readonly newTag?: string }[];
}

/** A file that is kept beside the manifests but never applied: it holds a placeholder. */
const isExample = (file: string): boolean => /\.example\.ya?ml$/.test(file);

const manifestFiles = readdirSync(folder)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();
const documents: { readonly file: string; readonly manifest: Manifest }[] = [];
const parseErrors: string[] = [];
for (const file of manifestFiles) {
  for (const document of parseAllDocuments(readFileSync(new URL(file, folder), 'utf8'))) {
    for (const error of document.errors) parseErrors.push(`${file}: ${error.message}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) documents.push({ file, manifest: value });
  }
}

/** The one manifest of a kind; applied files only unless `examples` is set. */
function only(kind: string, examples = false): Manifest {
  const found = documents.filter((d) => d.manifest.kind === kind && isExample(d.file) === examples);
  assert.equal(found.length, 1, `expected one ${kind} in deploy/kubernetes/, found ${found.length}`);
  return (found[0] as { manifest: Manifest }).manifest;
}

const deployment = only('Deployment') as Deployment;
const pod = deployment.spec.template.spec;
const podLabels: Labels = deployment.spec.template.metadata.labels ?? {};
const container = pod.containers[0] as Container;
const configMap = only('ConfigMap') as ConfigMap;
const service = only('Service') as Service;

/** Every label of `selector` is on `labels` with the same value; an empty selector matches too much. */
function assertSelects(selector: Labels | undefined, labels: Labels, what: string): void {
  const entries = Object.entries(selector ?? {});
  assert.ok(entries.length > 0, `${what}: empty selector`);
  for (const [key, value] of entries)
    assert.equal(labels[key], value, `${what}: ${key}=${value} is not a label of the target`);
}

function containerPort(port: number | string | undefined, what: string): ContainerPort {
  const found = container.ports?.find((p) => (typeof port === 'number' ? p.containerPort === port : p.name === port));
  assert.ok(found, `${what}: port ${String(port)} is not a port of container ${container.name}`);
  return found;
}

/** The option a SLOTWAY_* name sets, and whether it is the _FILE form of a secret. */
function optionOfEnv(
  name: string,
): { readonly definition: (typeof OPTION_DEFINITIONS)[number]; readonly file: boolean } | undefined {
  for (const definition of OPTION_DEFINITIONS) {
    if (envName(definition) === name) return { definition, file: false };
    if (definition.kind === 'secret' && `${envName(definition)}_FILE` === name) return { definition, file: true };
  }
  return undefined;
}

function optionDefault(flag: string): number {
  const definition = OPTION_DEFINITIONS.find((d) => d.flag === flag);
  assert.ok(definition, `--${flag} is not an option of Slotway (src/config/options.ts) yet`);
  assert.equal(typeof definition.defaultValue, 'number', `--${flag} default`);
  return definition.defaultValue as number;
}

/** The value a SLOTWAY_* variable has in the pod: the container's env, else the ConfigMap. */
function podEnv(name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value ?? configMap.data?.[name];
}

test('every manifest parses, and names its apiVersion, kind and name', () => {
  assert.deepEqual(parseErrors, []);
  assert.ok(documents.length >= 9, `only ${documents.length} documents`);
  for (const { file, manifest } of documents) {
    assert.ok(manifest.apiVersion, `${file}: apiVersion`);
    assert.ok(manifest.kind, `${file}: kind`);
    if (manifest.kind !== 'Kustomization') assert.ok(manifest.metadata?.name, `${file}: metadata.name`);
  }
});

test('kustomization.yaml lists every manifest of the folder but the examples, and nothing else', () => {
  const kustomization = only('Kustomization') as Kustomization;
  const listed = [...(kustomization.resources ?? [])].sort();
  for (const file of listed) assert.ok(existsSync(new URL(file, folder)), `kustomization lists missing ${file}`);
  const expected = manifestFiles.filter((f) => f !== 'kustomization.yaml' && !isExample(f));
  assert.deepEqual(listed, expected);
  // The example Secret holds a placeholder password: applying it would be a bug.
  for (const file of listed) assert.ok(!isExample(file), `${file} must not be applied`);
});

test('the kustomization sets the Deployment image to the package version', () => {
  const kustomization = only('Kustomization') as Kustomization;
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
  const image = kustomization.images?.find((i) => i.name === container.image);
  assert.ok(image, `kustomization images has no entry for image "${String(container.image)}"`);
  assert.equal(image.newTag, pkg.version);
});

const hpa = only('HorizontalPodAutoscaler') as HorizontalPodAutoscaler;

test('Deployment: replicas left to the HorizontalPodAutoscaler, spread over nodes, selector matching its pod labels', () => {
  // A count in the manifest would be reset by every `kubectl apply`, fighting the autoscaler.
  assert.equal(deployment.spec.replicas, undefined, 'spec.replicas is set, but hpa.yaml owns the count');
  assertSelects(deployment.spec.selector.matchLabels, podLabels, 'Deployment selector');
  assert.equal(podLabels['app.kubernetes.io/name'], 'slotway');
  const terms = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const byHost = terms.find((t) => t.podAffinityTerm.topologyKey === 'kubernetes.io/hostname');
  assert.ok(byHost, 'preferred podAntiAffinity on kubernetes.io/hostname');
  assertSelects(byHost.podAffinityTerm.labelSelector?.matchLabels, podLabels, 'anti-affinity selector');
});

test("Deployment: container ports 7777 (redis) and 9121 (metrics) are Slotway's", () => {
  assert.equal(pod.containers.length, 1);
  assert.equal(containerPort('redis', 'ports').containerPort, 7777);
  assert.equal(containerPort('metrics', 'ports').containerPort, 9121);
  // The ports Slotway listens on: the ConfigMap's, else its defaults.
  assert.equal(Number(podEnv('SLOTWAY_PORT') ?? optionDefault('port')), 7777);
  assert.equal(Number(podEnv('SLOTWAY_METRICS_PORT') ?? optionDefault('metrics-port')), 9121);
});

test('Deployment: liveness on /healthz, readiness on /readyz, on the metrics port', () => {
  const probes: [string, Probe | undefined, string][] = [
    ['livenessProbe', container.livenessProbe, '/healthz'],
    ['readinessProbe', container.readinessProbe, '/readyz'],
  ];
  if (container.startupProbe !== undefined) probes.push(['startupProbe', container.startupProbe, '/healthz']);
  for (const [name, probe, path] of probes) {
    assert.equal(probe?.httpGet?.path, path, `${name} path`);
    assert.equal(containerPort(probe?.httpGet?.port, name).containerPort, 9121, `${name} port`);
  }
});

test('Deployment: non-root uid 999, read-only root, no privileges, RuntimeDefault seccomp', () => {
  // The container's settings win over the pod's.
  const effective = { ...pod.securityContext, ...container.securityContext };
  assert.equal(effective.runAsNonRoot, true);
  assert.equal(effective.runAsUser, 999);
  assert.equal(effective.readOnlyRootFilesystem, true);
  assert.equal(effective.allowPrivilegeEscalation, false);
  assert.notEqual(effective.privileged, true);
  assert.deepEqual(effective.capabilities?.drop, ['ALL']);
  assert.equal(effective.capabilities?.add, undefined);
  assert.equal(effective.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.automountServiceAccountToken ?? false, false, 'Slotway never calls the Kubernetes API');
});

test('Deployment: requests and limits for cpu and memory', () => {
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory'])
      assert.ok(container.resources?.[kind]?.[resource], `resources.${kind}.${resource}`);
  }
});

test('Deployment: no service links, whose SLOTWAY_PORT=tcp://... Slotway would refuse as --port', () => {
  // A Service named slotway makes Kubernetes set SLOTWAY_PORT, SLOTWAY_SERVICE_HOST, ...
  assert.equal(pod.enableServiceLinks, false);
  const port = OPTION_DEFINITIONS.find((d) => d.flag === 'port');
  assert.ok(
    port !== undefined && 'error' in parseValue(port, 'tcp://10.0.0.1:7777'),
    'why enableServiceLinks must be false',
  );
});

test("Deployment: the grace period outlasts the preStop sleep plus Slotway's shutdown timeout", () => {
  const timeoutMs = Number(podEnv('SLOTWAY_SHUTDOWN_TIMEOUT') ?? optionDefault('shutdown-timeout'));
  const command = container.lifecycle?.preStop?.exec?.command ?? [];
  const sleepSeconds = command[0] === 'sleep' ? Number(command[1]) : 0;
  assert.ok(Number.isFinite(timeoutMs) && Number.isFinite(sleepSeconds));
  const grace = pod.terminationGracePeriodSeconds ?? 30; // Kubernetes' default
  assert.ok(
    grace * 1000 > sleepSeconds * 1000 + timeoutMs,
    `terminationGracePeriodSeconds ${grace} <= ${sleepSeconds} s preStop + ${timeoutMs} ms`,
  );
});

test('Deployment: options from the ConfigMap, the cluster password from a mounted Secret file', () => {
  assert.ok(
    container.envFrom?.some((e) => e.configMapRef?.name === configMap.metadata?.name),
    'envFrom the ConfigMap',
  );
  const seeds = configMap.data?.SLOTWAY_CLUSTER ?? '';
  assert.ok(seeds !== '', 'SLOTWAY_CLUSTER (seeds) is set');
  for (const seed of seeds.split(',')) assert.match(seed.trim(), /^[a-z0-9.-]+:\d+$/, `seed ${seed}`);

  const path = container.env?.find((e) => e.name === 'SLOTWAY_CLUSTER_PASSWORD_FILE')?.value;
  assert.ok(path, 'SLOTWAY_CLUSTER_PASSWORD_FILE is set');
  const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `${path} is not inside a volume mount`);
  assert.equal(mount.readOnly, true);
  const secret = pod.volumes?.find((v) => v.name === mount.name)?.secret;
  assert.ok(secret, `volume ${mount.name} is not a Secret`);
  const item = secret.items?.find((i) => `${mount.mountPath}/${i.path}` === path);
  const key = item?.key ?? path.slice(mount.mountPath.length + 1);

  // The example Secret shows the shape the Deployment expects.
  const example = only('Secret', true) as Secret;
  assert.equal(example.metadata?.name, secret.secretName);
  assert.ok(key in { ...example.data, ...example.stringData }, `the example Secret has no key "${key}"`);
  assert.equal(
    documents.filter((d) => d.manifest.kind === 'Secret' && !isExample(d.file)).length,
    0,
    'no Secret is applied from the repository',
  );
});

test("every SLOTWAY_* name in deploy/kubernetes/ is an option of Slotway (or a secret's _FILE form)", () => {
  const files = readdirSync(folder).filter((f) => /\.(ya?ml|md)$/.test(f));
  const unknown: string[] = [];
  for (const file of files) {
    // Comments and prose included: a hint naming a variable that does not exist misleads too.
    for (const name of readFileSync(new URL(file, folder), 'utf8').match(/\bSLOTWAY_[A-Z0-9_]+\b/g) ?? []) {
      if (optionOfEnv(name) === undefined) unknown.push(`${file}: ${name}`);
    }
  }
  assert.deepEqual([...new Set(unknown)], []);
});

test("the ConfigMap's values are valid, and no secret is set in plain text", () => {
  const variables = { ...configMap.data };
  for (const e of container.env ?? []) if (e.value !== undefined) variables[e.name] = e.value;
  for (const [name, text] of Object.entries(variables)) {
    const option = optionOfEnv(name);
    assert.ok(option, `${name} is not an option`);
    assert.ok(
      option.definition.kind !== 'secret' || option.file,
      `${name} puts a secret in plain text: use ${name}_FILE and a Secret`,
    );
    if (option.file || option.definition.kind === 'file') continue; // paths inside the pod
    const parsed = parseValue(option.definition, text);
    assert.ok(!('error' in parsed), `${name}=${text}: ${'error' in parsed ? parsed.error : ''}`);
  }
});

test('Service: ClusterIP on 7777 (redis) and 9121 (metrics), selecting the pods', () => {
  assert.equal(service.spec.type ?? 'ClusterIP', 'ClusterIP');
  assertSelects(service.spec.selector, podLabels, 'Service selector');
  const byName = new Map(service.spec.ports.map((p) => [p.name, p]));
  assert.equal(byName.get('redis')?.port, 7777);
  assert.equal(byName.get('metrics')?.port, 9121);
  for (const port of service.spec.ports) {
    const target = containerPort(port.targetPort ?? port.port, `Service port ${String(port.name)}`);
    assert.equal(target.containerPort, port.name === 'redis' ? 7777 : 9121, `Service port ${String(port.name)} target`);
  }
});

test('NetworkPolicy: applies to the pods; in from labelled clients and monitoring; out to Redis and DNS only', () => {
  const policy = (only('NetworkPolicy') as NetworkPolicy).spec;
  assertSelects(policy.podSelector.matchLabels, podLabels, 'NetworkPolicy podSelector');
  assert.deepEqual([...(policy.policyTypes ?? [])].sort(), ['Egress', 'Ingress']);

  const allows = (
    rules: readonly PolicyRule[] | undefined,
    port: number,
    protocol: string,
    peer: (p: PolicyPeer) => boolean,
  ): boolean =>
    (rules ?? []).some(
      (r) =>
        (r.ports ?? []).some((p) => p.port === port && (p.protocol ?? 'TCP') === protocol) &&
        (r.from ?? r.to ?? []).some(peer),
    );

  // Every rule names its peers and ports: an empty `from`/`to` or `ports` would allow everything.
  for (const rule of [...(policy.ingress ?? []), ...(policy.egress ?? [])]) {
    assert.ok((rule.from ?? rule.to ?? []).length > 0, 'a rule without peers allows every peer');
    assert.ok((rule.ports ?? []).length > 0, 'a rule without ports allows every port');
  }
  for (const rule of policy.ingress ?? [])
    for (const p of rule.ports ?? []) containerPort(p.port, 'NetworkPolicy ingress');

  assert.ok(
    allows(policy.ingress, 7777, 'TCP', (p) => p.podSelector?.matchLabels?.['slotway-client'] === 'true'),
    'ingress to 7777 from slotway-client pods',
  );
  assert.ok(
    allows(policy.ingress, 9121, 'TCP', (p) => p.namespaceSelector?.matchLabels !== undefined),
    'ingress to 9121 from the monitoring namespace',
  );
  const redis = (p: PolicyPeer): boolean => p.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'redis';
  assert.ok(allows(policy.egress, 6379, 'TCP', redis), 'egress to Redis pods on 6379');
  const dns = (p: PolicyPeer): boolean => p.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns';
  assert.ok(allows(policy.egress, 53, 'UDP', dns), 'egress to kube-dns on UDP 53');
  assert.ok(allows(policy.egress, 53, 'TCP', dns), 'egress to kube-dns on TCP 53');
  for (const rule of policy.egress ?? []) {
    for (const peer of rule.to ?? [])
      assert.ok(redis(peer) || dns(peer), `egress to something else than Redis or DNS: ${JSON.stringify(peer)}`);
  }
});

test('HorizontalPodAutoscaler: autoscaling/v2 on the Deployment, 2 to 10 pods at 70% CPU, slow scale-down', () => {
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(hpa.spec.scaleTargetRef, {
    apiVersion: deployment.apiVersion,
    kind: 'Deployment',
    name: deployment.metadata?.name,
  });
  assert.equal(hpa.spec.minReplicas, 2, 'two pods at least, so that one serves through a drain');
  assert.ok(hpa.spec.maxReplicas > (hpa.spec.minReplicas ?? 1), 'maxReplicas above minReplicas');
  const cpu = hpa.spec.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target;
  assert.equal(cpu?.type, 'Utilization');
  assert.equal(cpu?.averageUtilization, 70);
  // Utilization is a share of requests.cpu: without a request the HPA cannot compute it.
  assert.ok(container.resources?.requests?.cpu, 'requests.cpu, the base of CPU utilization');
  const down = hpa.spec.behavior?.scaleDown;
  assert.ok((down?.stabilizationWindowSeconds ?? 0) >= 60, 'a scale-down stabilization window of a minute or more');
  for (const policy of down?.policies ?? []) assert.ok(policy.value > 0 && policy.periodSeconds > 0);
});

test('PodDisruptionBudget: one pod unavailable at a time, which leaves one of the minimum two serving', () => {
  const pdb = (only('PodDisruptionBudget') as PodDisruptionBudget).spec;
  // maxUnavailable, not minAvailable: the count of pods changes with the autoscaler.
  assert.equal(pdb.minAvailable, undefined);
  assert.equal(pdb.maxUnavailable, 1);
  assert.ok((hpa.spec.minReplicas ?? 1) - 1 >= 1, 'with the fewest pods, a drain still leaves one serving');
  assertSelects(pdb.selector.matchLabels, podLabels, 'PodDisruptionBudget selector');
});

test('ServiceMonitor: selects the Service and scrapes its metrics port', () => {
  const monitor = only('ServiceMonitor') as ServiceMonitor;
  assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
  assertSelects(monitor.spec.selector.matchLabels, service.metadata?.labels ?? {}, 'ServiceMonitor selector');
  assert.ok(monitor.spec.endpoints.length > 0);
  for (const endpoint of monitor.spec.endpoints) {
    assert.ok(
      service.spec.ports.some((p) => p.name === endpoint.port),
      `Service has no port named ${String(endpoint.port)}`,
    );
    assert.equal(endpoint.path ?? '/metrics', '/metrics');
  }
});
