// The Dockerfile, read by a small instruction parser (no Docker engine needed):
// a build stage with dev dependencies, a runtime stage with production ones,
// uid 999, the ports Slotway listens on, a HEALTHCHECK, tini as PID 1. And the
// .dockerignore lets in what the Dockerfile copies and keeps out the rest.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { OPTION_DEFINITIONS, envName } from '../../../src/config/options.js';

const root = new URL('../../../../', import.meta.url);

interface Instruction {
  readonly keyword: string; // upper case: FROM, RUN, COPY...
  readonly args: string; // the rest, continuation lines joined
  readonly line: number; // 1-based line of the keyword
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/**
 * Dockerfile text -> instructions. Comment lines (parser directives included)
 * are skipped, also inside a continuation, as Docker does; a line ending in a
 * backslash continues on the next.
 */
function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#')) return;
    if (trimmed === '' && pending === null) return;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    if (pending === null) pending = { parts: [], line: index + 1 };
    if (part !== '') pending.parts.push(part);
    if (continues) return;
    const joined = pending.parts.join(' ');
    const space = joined.search(/\s/);
    instructions.push({
      keyword: (space < 0 ? joined : joined.slice(0, space)).toUpperCase(),
      args: space < 0 ? '' : joined.slice(space + 1).trim(),
      line: pending.line,
    });
    pending = null;
  });
  return instructions;
}

/** Instructions -> stages, split at FROM ([--platform=...] image [AS name]). */
function parseStages(instructions: readonly Instruction[]): Stage[] {
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0] ?? '', name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else {
      const current = stages[stages.length - 1];
      assert.ok(current, `line ${instruction.line}: ${instruction.keyword} before any FROM`);
      current.instructions.push(instruction);
    }
  }
  return stages;
}

/** The exec (JSON array) form of an instruction's arguments, or null for the shell form. */
function execForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  const parsed: unknown = JSON.parse(args);
  assert.ok(
    Array.isArray(parsed) && parsed.every((p) => typeof p === 'string'),
    `not a JSON array of strings: ${args}`,
  );
  return parsed;
}

/** COPY/ADD: its --flags, sources and destination. */
function parseCopy(args: string): {
  readonly flags: ReadonlyMap<string, string>;
  readonly sources: readonly string[];
  readonly destination: string;
} {
  const words = execForm(args) ?? args.split(/\s+/);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith('--') === true) {
    const [key = '', value = ''] = (words.shift() as string).slice(2).split('=', 2);
    flags.set(key, value);
  }
  const destination = words.pop();
  assert.ok(destination !== undefined && words.length > 0, `COPY needs a source and a destination: ${args}`);
  return { flags, sources: words, destination };
}

/** HEALTHCHECK [--option=value...] CMD command | NONE. */
function parseHealthcheck(args: string): { readonly none: boolean; readonly command: readonly string[] | string } {
  const rest = args.replace(/^(--[a-z-]+=\S+\s+)*/, '');
  if (/^NONE$/i.test(rest)) return { none: true, command: [] };
  const cmd = /^CMD\s+(.*)$/is.exec(rest);
  assert.ok(cmd, `HEALTHCHECK without CMD: ${args}`);
  const command = cmd[1] as string;
  return { none: false, command: execForm(command) ?? command };
}

/**
 * .dockerignore -> "is this path left out of the build context?". Patterns as
 * Docker reads them: `*` and `?` within one path segment, `**` across
 * segments, `!` re-includes, the last matching pattern wins, and a pattern
 * matching a directory matches everything inside it.
 */
function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const body = (negated ? l.slice(1) : l)
        .trim()
        .replace(/^\.?\//, '')
        .replace(/\/+$/, '');
      const source = body
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((piece) => {
          if (piece === '**/') return '(?:.*/)?';
          if (piece === '**') return '.*';
          if (piece === '*') return '[^/]*';
          if (piece === '?') return '[^/]';
          return piece.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { negated, regex: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const { negated, regex } of patterns) if (prefixes.some((p) => regex.test(p))) excluded = !negated;
    return excluded;
  };
}

const instructions = parseInstructions(readFileSync(new URL('Dockerfile', root), 'utf8'));
const stages = parseStages(instructions);
const runtime = stages[stages.length - 1] as Stage;
const stageNamed = (name: string): Stage | undefined => stages.find((s) => s.name === name);
const of = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage): string =>
  of(stage, 'RUN')
    .map((i) => i.args)
    .join('\n');
/** `npm ci`/`npm install` commands of a stage, and whether each leaves dev dependencies out. */
const npmInstalls = (stage: Stage): { readonly command: string; readonly production: boolean }[] =>
  (runs(stage).match(/npm\s+(?:ci|install|i)\b[^&;\n]*/g) ?? []).map((command) => ({
    command,
    production: /--omit[= ]dev\b|--only[= ]prod(uction)?\b|--production\b/.test(command),
  }));

function optionDefault(flag: string): number {
  const definition = OPTION_DEFINITIONS.find((d) => d.flag === flag);
  assert.ok(definition, `--${flag} is not an option of Slotway (src/config/options.ts) yet`);
  return definition.defaultValue as number;
}

test('the parser joins continuations, skips comments inside them, reads stages and COPY flags', () => {
  const parsed = parseStages(
    parseInstructions(
      '# syntax=docker/dockerfile:1\nFROM node:20 AS build\nRUN a \\\n  # note\n  && b\n\nFROM --platform=linux/amd64 node:20\nCOPY --from=build --chown=1:1 /app/dist ./dist\nUSER 999',
    ),
  );
  assert.equal(parsed.length, 2);
  assert.equal(parsed[0]?.name, 'build');
  assert.equal(parsed[0]?.instructions[0]?.args, 'a && b');
  assert.equal(parsed[1]?.image, 'node:20');
  assert.equal(parsed[1]?.name, undefined);
  const copy = parseCopy(parsed[1]?.instructions[0]?.args ?? '');
  assert.equal(copy.flags.get('from'), 'build');
  assert.deepEqual(copy.sources, ['/app/dist']);
  assert.deepEqual(parseHealthcheck('--interval=5s --retries=3 CMD ["node", "-e", "1"]').command, ['node', '-e', '1']);
  const ignored = dockerignore('*\n!src/\n**/*.swp');
  assert.equal(ignored('node_modules/x/index.js'), true);
  assert.equal(ignored('src/cli.ts'), false);
  assert.equal(ignored('src/deep/.cli.ts.swp'), true);
});

test('multi-stage: named stages on one Node base matching package.json engines', () => {
  assert.ok(stages.length >= 2, `${stages.length} stage(s)`);
  for (const stage of stages.slice(0, -1)) assert.ok(stage.name, `stage FROM ${stage.image} has no AS name`);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
  const major = /(\d+)/.exec(pkg.engines.node)?.[1];
  // What is installed in one stage runs in another: same base for all.
  const bases = new Set(stages.map((s) => s.image).filter((image) => stageNamed(image) === undefined));
  assert.equal(bases.size, 1, `several base images: ${[...bases].join(', ')}`);
  assert.match([...bases][0] as string, new RegExp(`^node:${major}[.-]`));
});

test('a build stage installs dev dependencies and compiles with tsc; its node_modules stay behind', () => {
  const build = stages.find((s) => /\btsc\b/.test(runs(s)));
  assert.ok(build !== undefined && build !== runtime, 'a stage other than the last runs tsc');
  assert.ok(
    npmInstalls(build).some((i) => !i.production),
    'the build stage installs dev dependencies (typescript)',
  );
  for (const copy of of(runtime, 'COPY').map((i) => parseCopy(i.args))) {
    if (copy.flags.get('from') !== build.name) continue;
    for (const source of copy.sources) {
      assert.match(
        source,
        /^(\/app\/)?dist\/src\/?$/,
        `the runtime takes only dist/src from the build stage, not ${source}`,
      );
    }
  }
});

test('the runtime stage has production dependencies only', () => {
  const installs = npmInstalls(runtime);
  for (const install of installs)
    assert.ok(install.production, `runtime installs dev dependencies: ${install.command}`);
  // node_modules: installed here without dev dependencies, or copied from a stage that did so.
  const copied = of(runtime, 'COPY')
    .map((i) => parseCopy(i.args))
    .filter((c) => c.sources.some((s) => /node_modules\/?$/.test(s)));
  assert.ok(installs.length > 0 || copied.length > 0, 'the runtime stage gets no node_modules');
  for (const copy of copied) {
    const from = stageNamed(copy.flags.get('from') ?? '');
    assert.ok(from, 'node_modules copied from the build context');
    const fromInstalls = npmInstalls(from);
    assert.ok(
      fromInstalls.length > 0 && fromInstalls.every((i) => i.production),
      `stage ${String(from.name)} installs dev dependencies`,
    );
  }
  // From the build context, only the package files: no sources, tests or benchmarks.
  for (const copy of of(runtime, 'COPY').map((i) => parseCopy(i.args))) {
    if (copy.flags.has('from')) continue;
    for (const source of copy.sources)
      assert.match(source, /^(\.\/)?package(-lock)?\.json$/, `runtime copies ${source} from the context`);
  }
  assert.ok(
    of(runtime, 'ENV').some((i) => /\bNODE_ENV[= ]production\b/.test(i.args)),
    'ENV NODE_ENV=production',
  );
});

test('the runtime runs as uid 999, not root', () => {
  const user = of(runtime, 'USER').at(-1)?.args.split(':')[0];
  assert.ok(user !== undefined, 'no USER in the runtime stage: it would run as root');
  if (/^\d+$/.test(user)) assert.equal(user, '999');
  else
    assert.match(
      runs(runtime),
      new RegExp(`useradd\\b[^\\n]*(?:-u|--uid)[ =]999\\b[^\\n]*\\b${user}\\b`),
      `user ${user} is not created with uid 999`,
    );
  // An image that leaves uid 999 undefined gets a nameless user; ours creates it.
  assert.match(
    runs(runtime),
    /(?:useradd|adduser)\b[^\n]*(?:-u|--uid)[ =]999\b/,
    'uid 999 is created in the runtime stage',
  );
});

test("EXPOSE the client port and the metrics port, Slotway's defaults", () => {
  const exposed = of(runtime, 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => Number(p.split('/')[0]));
  assert.ok(exposed.includes(optionDefault('port')), `EXPOSE ${optionDefault('port')}`);
  assert.ok(
    exposed.includes(optionDefault('metrics-port')),
    `EXPOSE ${optionDefault('metrics-port')} (--metrics-port)`,
  );
  assert.deepEqual(
    [...exposed].sort((a, b) => a - b),
    [7777, 9121],
  );
});

test('HEALTHCHECK asks /healthz on the metrics port with node itself (slim images have no curl)', () => {
  const checks = of(runtime, 'HEALTHCHECK');
  assert.equal(checks.length, 1);
  const check = parseHealthcheck((checks[0] as Instruction).args);
  assert.equal(check.none, false);
  assert.ok(Array.isArray(check.command), 'exec form: no shell needed');
  const command = check.command as readonly string[];
  assert.equal(command[0], 'node');
  const script = command.join(' ');
  assert.match(script, /\/healthz/);
  assert.match(script, new RegExp(`\\b${optionDefault('metrics-port')}\\b`));
  assert.doesNotMatch(script, /\b(curl|wget)\b/);
});

test('ENTRYPOINT: exec form, tini as PID 1, then node dist/src/cli.js', () => {
  const entrypoints = of(runtime, 'ENTRYPOINT');
  assert.equal(entrypoints.length, 1);
  // A shell form would make /bin/sh PID 1, and sh does not pass SIGTERM on.
  const entrypoint = execForm((entrypoints[0] as Instruction).args);
  assert.ok(entrypoint, 'ENTRYPOINT in exec form');
  assert.match(entrypoint[0] ?? '', /(^|\/)tini$/, 'tini first (Kubernetes has no docker run --init)');
  assert.equal(entrypoint[1], '--');
  assert.deepEqual(entrypoint.slice(2), ['node', 'dist/src/cli.js']);
  assert.match(runs(runtime), /apt-get install\b[^\n]*\btini\b/, 'tini installed in the runtime stage');
  // dist/src/cli.js is where the COPY from the build stage puts it (relative to WORKDIR).
  const workdir = of(runtime, 'WORKDIR').at(-1)?.args;
  assert.equal(workdir, '/app');
  assert.ok(
    of(runtime, 'COPY').some((i) => /\s\.?\/?(?:\/app\/)?dist\/src\/?$/.test(i.args)),
    'dist/src copied to WORKDIR/dist/src',
  );
});

test('every SLOTWAY_* name in the Dockerfile is an option of Slotway', () => {
  const names = new Set(
    OPTION_DEFINITIONS.flatMap((d) => (d.kind === 'secret' ? [envName(d), `${envName(d)}_FILE`] : [envName(d)])),
  );
  const used = readFileSync(new URL('Dockerfile', root), 'utf8').match(/\bSLOTWAY_[A-Z0-9_]+\b/g) ?? [];
  assert.deepEqual(
    used.filter((n) => !names.has(n)),
    [],
  );
});

test('.dockerignore sends what the Dockerfile copies and nothing else of note', () => {
  const ignored = dockerignore(readFileSync(new URL('.dockerignore', root), 'utf8'));
  for (const path of [
    'node_modules/yaml/package.json',
    'dist/src/cli.js',
    '.git/HEAD',
    'test/unit/x.test.ts',
    'bench/run.ts',
    '.env',
    'deploy/kubernetes/secret.example.yaml',
  ]) {
    assert.ok(ignored(path), `${path} is sent to the builder`);
  }
  const walk = (dir: string): string[] =>
    readdirSync(new URL(dir, root)).flatMap((entry) => {
      const path = `${dir}${entry}`;
      return statSync(new URL(path, root)).isDirectory() ? walk(`${path}/`) : [path];
    });
  for (const stage of stages) {
    for (const copy of of(stage, 'COPY').map((i) => parseCopy(i.args))) {
      if (copy.flags.has('from')) continue;
      for (const source of copy.sources) {
        const clean = source.replace(/^\.\//, '').replace(/\/$/, '');
        const isDirectory = statSync(new URL(clean, root)).isDirectory();
        const files = isDirectory ? walk(`${clean}/`) : [clean];
        assert.ok(files.length > 0, `${source} is empty`);
        for (const file of files) {
          if (/(\.swp|~|\.DS_Store)$/.test(file)) continue;
          assert.ok(!ignored(file), `${file} (COPY ${source}) is left out by .dockerignore`);
        }
      }
    }
  }
});
