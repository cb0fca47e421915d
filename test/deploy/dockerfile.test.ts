/**
 * No Docker engine runs here, so the Dockerfile is checked by reading it: its stages, what the run stage
 * holds and how it starts, and that every file it copies is in the build context .dockerignore leaves.
 * compiled-output.test.ts runs what the run stage runs (`node dist/main.js` on production dependencies).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { IMAGE_DEFAULT_CONFIG } from '../../scripts/k8s/checks.ts';
import { ROOT } from './prod-tree.ts';

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  platform: string | undefined;
  body: Instruction[];
}

function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1);
      i++;
      if (/^\s*#/.test(lines[i]!)) continue;
      line += ` ${lines[i]!.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `Dockerfile:${start + 1}: cannot parse ${line}`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(f, `Dockerfile:${start + 1}: bad FROM`);
      stages.push({ platform: f[1], from: f[2]!.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? ''), name: f[3], body: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args.set(k!, v ?? '');
    } else {
      assert.ok(stages.length > 0, `Dockerfile:${start + 1}: ${op} before FROM`);
      stages.at(-1)!.body.push({ op, args: rest, line: start + 1 });
    }
  }
  return { args, stages };
}

/** Docker's .dockerignore semantics: the last pattern matching the path or a parent wins; `!` re-includes. */
function dockerIgnored(patterns: string[], path: string): boolean {
  const toRegExp = (p: string): RegExp => {
    const segments = p.split('/');
    const body = segments
      .map((seg, i) => {
        const last = i === segments.length - 1;
        if (seg === '**') return last ? '.*' : '(?:.*/)?';
        return (
          seg
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]') + (last ? '' : '/')
        );
      })
      .join('');
    return new RegExp(`^${body}$`);
  };
  const parts = path.split('/');
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const re = toRegExp(negated ? raw.slice(1) : raw);
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    if (prefixes.some((p) => re.test(p))) ignored = !negated;
  }
  return ignored;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(ROOT, path)];
  });
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const run = dockerfile.stages.at(-1)!;
const named = (name: string): Stage => {
  const stage = dockerfile.stages.find((s) => s.name === name);
  assert.ok(stage, `no stage ${name}`);
  return stage;
};
const ops = (stage: Stage, op: string): Instruction[] => stage.body.filter((i) => i.op === op);

test('Dockerfile: builds with dev dependencies and tsc, installs production dependencies alone', () => {
  assert.ok(dockerfile.stages.length >= 3);
  const build = named('build');
  assert.ok(ops(build, 'RUN').some((i) => /\bnpm ci\b/.test(i.args) && !/--omit=dev/.test(i.args)));
  assert.ok(
    ops(build, 'RUN').some((i) => /tsc(\s|")+-p tsconfig\.build\.json/.test(i.args)),
    'the build stage compiles with tsconfig.build.json',
  );
  assert.ok(existsSync(join(ROOT, 'tsconfig.build.json')));
  const deps = named('prod-deps');
  assert.ok(ops(deps, 'RUN').some((i) => /\bnpm ci\b.*--omit=dev/.test(i.args)));
  // The production install is the whole story: nothing is installed and then removed again.
  assert.ok(!ops(deps, 'RUN').some((i) => /\bnpm (uninstall|rm|remove)\b/.test(i.args)), 'prod-deps uninstalls nothing');
  for (const stage of [build, deps]) assert.equal(stage.platform, '$BUILDPLATFORM', 'build stages run natively when cross-building');
});

test('package.json: tsx and TypeScript are dev dependencies, which `npm ci` installs, so `npm start` works on a clone', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  assert.match(pkg.scripts.start ?? '', /--import tsx src\/main\.ts/);
  for (const tool of ['tsx', 'typescript']) {
    assert.ok(pkg.devDependencies[tool], `${tool} is a dev dependency`);
    assert.equal(pkg.dependencies[tool], undefined, `${tool} is not a production dependency`);
  }
});

test('Dockerfile: the run stage is a current Node LTS, non-root, started as node dist/main.js without tsx', () => {
  const major = Number(dockerfile.args.get('NODE_MAJOR'));
  assert.ok(major >= 22 && major % 2 === 0, `Node ${major} is not a current LTS line`);
  assert.match(run.from, new RegExp(`^gcr\\.io/distroless/nodejs${major}-debian\\d+:nonroot$`));
  const user = ops(run, 'USER').at(-1)?.args ?? '';
  assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, 'numeric non-root USER, so the kubelet can verify runAsNonRoot');
  const cmd = JSON.parse(ops(run, 'CMD').at(-1)!.args) as string[];
  assert.equal(cmd.at(-1), 'dist/main.js', 'node (the distroless ENTRYPOINT) runs the compiled JavaScript as PID 1');
  assert.equal(ops(run, 'ENTRYPOINT').length, 0, 'no shell or wrapper between node and the signals');
  assert.ok(!run.body.some((i) => /\btsx\b/.test(i.args)), 'the run stage never mentions tsx');
  const copies = ops(run, 'COPY').map((i) => i.args);
  assert.ok(copies.includes('--from=prod-deps /app/node_modules ./node_modules'));
  assert.ok(copies.includes('--from=build /app/dist ./dist'));
  assert.ok(!copies.some((c) => /--from=build \/app\/node_modules/.test(c)), 'dev dependencies never reach the image');
  assert.ok(copies.includes('package.json ./'), 'package.json ("type": "module") is needed at run time');
  const env = ops(run, 'ENV')
    .map((i) => i.args)
    .join(' ');
  assert.match(
    env,
    new RegExp(`SIDECAR_CONFIG=${IMAGE_DEFAULT_CONFIG.replace(/\//g, '\\/')}\\b`),
    'the default config path the k8s checks assume',
  );
  assert.ok(copies.some((c) => c === `sidecar.yaml ${IMAGE_DEFAULT_CONFIG}`));
  const health = ops(run, 'HEALTHCHECK').at(-1)?.args ?? '';
  assert.match(health, /CMD \["\/nodejs\/bin\/node", "-e", ".*\/healthz/);
});

test('Dockerfile: every file the build copies from the context is there, and .dockerignore keeps the rest out', () => {
  const sources = dockerfile.stages
    .flatMap((s) => ops(s, 'COPY'))
    .filter((i) => !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  for (const source of sources) {
    assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: missing`);
    const paths = statSync(join(ROOT, source)).isDirectory() ? files(join(ROOT, source)) : [source];
    const kept = paths.filter((p) => !dockerIgnored(ignore, p));
    assert.ok(kept.length > 0, `COPY ${source}: everything is excluded by .dockerignore`);
    if (source === 'src') {
      for (const p of paths.filter((x) => x.endsWith('.ts') && !x.startsWith('src/emulator/')))
        assert.ok(kept.includes(p), `${p} is excluded`);
    }
  }
  for (const path of [
    'node_modules/pino/package.json',
    'dist/main.js',
    '.git/HEAD',
    'test/deploy/dockerfile.test.ts',
    'k8s/base/deployment.yaml',
    '.env',
    'src/emulator/server.ts',
    'src/emulator/README.md',
    'README.md',
  ]) {
    assert.ok(dockerIgnored(ignore, path), `${path} would be in the build context`);
  }
});
