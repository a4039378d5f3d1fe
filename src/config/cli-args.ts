// Command line, environment and config file -> ProxyOptions.
//
// Precedence: flag > SLOTWAY_* environment variable > --config file > default.
// Every bad value is reported, not just the first, so one run shows
// everything to fix. A 'secret' option may instead name a file holding it
// (--cluster-password-file, SLOTWAY_CLUSTER_PASSWORD_FILE, or the key
// cluster-password-file), as Kubernetes mounts Secrets.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import {
  DEFAULT_OPTIONS,
  FALSE_WORDS,
  OPTION_DEFINITIONS,
  TRUE_WORDS,
  envName,
  envNameOf,
  parseValue,
  shownDefault,
  type OptionDefinition,
  type ProxyOptions,
} from './options.js';

export type CliCommand = 'run' | 'demo' | 'help' | 'version';

export interface ParsedCommandLine {
  readonly command: CliCommand;
  readonly options: ProxyOptions;
  readonly errors: readonly string[];
}

const CONFIG_FLAG = 'config';
const CONFIG_ENV = envNameOf(CONFIG_FLAG);
const FILE_SUFFIX = '-file';

/** The option texts one source gave, by flag name; `label` names the source in errors. */
interface SourceValues {
  readonly label: (flag: string) => string;
  readonly texts: Map<string, string>;
}

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const errors: string[] = [];
  const command = { value: 'run' as CliCommand };
  const positionalSeeds: string[] = [];
  const flags = readFlags(argv, command, positionalSeeds, errors);
  const environment = readEnvironment(env);
  const configPath = flags.texts.get(CONFIG_FLAG) ?? env[CONFIG_ENV];
  const sources = [environment, flags];
  if (configPath !== undefined && configPath !== '') sources.unshift(readConfigFile(configPath, errors));

  const values: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const source of sources) {
    for (const definition of OPTION_DEFINITIONS) {
      const text = optionText(source, definition, errors);
      if (text === undefined) continue;
      const parsed = parseValue(definition, text);
      if ('error' in parsed)
        errors.push(source === flags ? parsed.error : `${source.label(definition.flag)}: ${parsed.error}`);
      else values[definition.key] = parsed.value;
    }
  }
  if (positionalSeeds.length > 0) values.seeds = [...(values.seeds as string[]), ...positionalSeeds];
  return { command: command.value, options: Object.freeze(values) as unknown as ProxyOptions, errors };
}

/** The text one source gives an option: its value, or the contents of the file it names for a secret. */
function optionText(source: SourceValues, definition: OptionDefinition, errors: string[]): string | undefined {
  const text = source.texts.get(definition.flag);
  const path = definition.kind === 'secret' ? source.texts.get(definition.flag + FILE_SUFFIX) : undefined;
  if (path === undefined) return text;
  if (text !== undefined) {
    errors.push(
      `${source.label(definition.flag)} and ${source.label(definition.flag + FILE_SUFFIX)} are both given: give one`,
    );
    return undefined;
  }
  try {
    // A trailing newline is an artefact of `echo secret > file`, never part of a password.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    errors.push(
      `${source.label(definition.flag + FILE_SUFFIX)}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
    return undefined;
  }
}

/** Flag names a source may use: every option, --x-file for secrets, and --config. */
function knownFlags(): Set<string> {
  const known = new Set<string>([CONFIG_FLAG]);
  for (const definition of OPTION_DEFINITIONS) {
    known.add(definition.flag);
    if (definition.kind === 'secret') known.add(definition.flag + FILE_SUFFIX);
  }
  return known;
}

function definitionOf(flag: string): OptionDefinition | undefined {
  return OPTION_DEFINITIONS.find((d) => d.flag === flag);
}

function readFlags(
  argv: readonly string[],
  command: { value: CliCommand },
  positionalSeeds: string[],
  errors: string[],
): SourceValues {
  const texts = new Map<string, string>();
  const known = knownFlags();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--help' || word === '-h') command.value = 'help';
    else if (word === '--version' || word === '-v') command.value = 'version';
    else if (word === 'demo' && i === 0) command.value = 'demo';
    else if (word.startsWith('--')) {
      const equals = word.indexOf('=');
      const flag = word.slice(2, equals < 0 ? undefined : equals);
      if (!known.has(flag)) {
        errors.push(`unknown option --${flag} (see --help)`);
        continue;
      }
      let text: string | undefined;
      if (equals >= 0) text = word.slice(equals + 1);
      else if (definitionOf(flag)?.kind !== 'boolean') text = argv[++i];
      else {
        // A bare boolean flag means true; a following true/false word is its value.
        const next = (argv[i + 1] ?? '').toLowerCase();
        text = TRUE_WORDS.includes(next) || FALSE_WORDS.includes(next) ? argv[++i] : 'true';
      }
      if (text === undefined) errors.push(`--${flag} needs a value`);
      else texts.set(flag, text);
    } else positionalSeeds.push(word);
  }
  return { label: (flag) => `--${flag}`, texts };
}

function readEnvironment(env: NodeJS.ProcessEnv): SourceValues {
  const texts = new Map<string, string>();
  for (const flag of knownFlags()) {
    const text = env[envNameOf(flag)];
    if (text !== undefined && flag !== CONFIG_FLAG) texts.set(flag, text);
  }
  return { label: envNameOf, texts };
}

/** The YAML parser (~0.6 MB of heap), loaded only when a --config file is read: require() of its CommonJS build. */
function loadYaml(): typeof Yaml {
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}

/**
 * A YAML (or JSON, which YAML reads too) mapping of flag names to values:
 *   cluster: [redis-0.redis:6379, redis-1.redis:6379]
 *   max-pipeline: 20000
 *   cluster-password-file: /var/run/secrets/redis/password
 */
function readConfigFile(path: string, errors: string[]): SourceValues {
  const texts = new Map<string, string>();
  const label = (flag: string): string => `${path}: ${flag}`;
  let document: unknown;
  try {
    document = loadYaml().parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0];
    errors.push(`--config: cannot read "${path}" (${reason})`);
    return { label, texts };
  }
  if (document === null || document === undefined) return { label, texts };
  if (typeof document !== 'object' || Array.isArray(document)) {
    errors.push(`--config: "${path}" must be a mapping of option names to values`);
    return { label, texts };
  }
  const known = knownFlags();
  known.delete(CONFIG_FLAG);
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    if (!known.has(key)) {
      errors.push(`${path}: unknown option "${key}" (see --help)`);
      continue;
    }
    if (Array.isArray(value)) texts.set(key, value.map(String).join(','));
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      texts.set(key, String(value));
    } else errors.push(`${label(key)}: must be a single value or a list`);
  }
  return { label, texts };
}

export function helpText(): string {
  const lines = [
    'Usage: slotway [--cluster host:port[,host:port...]] [options] [host:port ...]',
    '       slotway demo [options]    start a throwaway local cluster (3 masters, 3 replicas) and Slotway in front of it',
    '',
    'Every option is also an environment variable and a key of a --config file (YAML or JSON, keys are',
    'the flag names). Precedence: flag > environment > config file > default. Options marked (secret)',
    'may instead name a file holding the value: --<flag>-file, SLOTWAY_<FLAG>_FILE, <flag>-file.',
    '',
    'Options (flag, environment variable, default):',
    `  --${CONFIG_FLAG.padEnd(22)} ${CONFIG_ENV.padEnd(32)} default (none)`,
    '      a YAML or JSON file of options',
  ];
  for (const definition of OPTION_DEFINITIONS) {
    lines.push(
      `  --${definition.flag.padEnd(22)} ${envName(definition).padEnd(32)} default ${shownDefault(definition)}`,
    );
    lines.push(`      ${definition.description}`);
  }
  lines.push('  --help, --version');
  return lines.join('\n');
}
