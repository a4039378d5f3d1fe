// Command line and environment -> ProxyOptions. Precedence: flag > SLOTWAY_*
// environment variable > default. Every bad value is reported, not just the
// first, so one run shows everything to fix.
import { DEFAULT_OPTIONS, FALSE_WORDS, OPTION_DEFINITIONS, TRUE_WORDS, envName, parseValue, type ProxyOptions } from './options.js';

export type CliCommand = 'run' | 'demo' | 'help' | 'version';

export interface ParsedCommandLine {
  readonly command: CliCommand;
  readonly options: ProxyOptions;
  readonly errors: readonly string[];
}

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const values: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  const errors: string[] = [];
  let command: CliCommand = 'run';
  const positionalSeeds: string[] = [];

  for (const definition of OPTION_DEFINITIONS) {
    const text = env[envName(definition)];
    if (text === undefined) continue;
    const parsed = parseValue(definition, text);
    if ('error' in parsed) errors.push(`${envName(definition)}: ${parsed.error}`);
    else values[definition.key] = parsed.value;
  }

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--help' || word === '-h') command = 'help';
    else if (word === '--version' || word === '-v') command = 'version';
    else if (word === 'demo' && i === 0) command = 'demo';
    else if (word.startsWith('--')) {
      const equals = word.indexOf('=');
      const flag = word.slice(2, equals < 0 ? undefined : equals);
      const definition = OPTION_DEFINITIONS.find((d) => d.flag === flag);
      if (definition === undefined) {
        errors.push(`unknown option --${flag} (see --help)`);
        continue;
      }
      let text: string | undefined;
      if (equals >= 0) text = word.slice(equals + 1);
      else if (definition.kind !== 'boolean') text = argv[++i];
      else {
        // A bare boolean flag means true; a following true/false word is its value.
        const next = (argv[i + 1] ?? '').toLowerCase();
        text = TRUE_WORDS.includes(next) || FALSE_WORDS.includes(next) ? (argv[++i] as string) : 'true';
      }
      if (text === undefined) {
        errors.push(`--${flag} needs a value`);
        continue;
      }
      const parsed = parseValue(definition, text);
      if ('error' in parsed) errors.push(parsed.error);
      else values[definition.key] = parsed.value;
    } else positionalSeeds.push(word);
  }
  if (positionalSeeds.length > 0) values.seeds = [...(values.seeds as string[]), ...positionalSeeds];
  return { command, options: Object.freeze(values) as unknown as ProxyOptions, errors };
}

export function helpText(): string {
  const lines = [
    'Usage: slotway [--cluster host:port[,host:port...]] [options] [host:port ...]',
    '       slotway demo [options]    start a throwaway local cluster (3 masters, 3 replicas) and Slotway in front of it',
    '',
    'Options (flag, environment variable, default):',
  ];
  for (const definition of OPTION_DEFINITIONS) {
    const shown = Array.isArray(definition.defaultValue) ? '(none)' : String(definition.defaultValue);
    lines.push(`  --${definition.flag.padEnd(22)} ${envName(definition).padEnd(32)} default ${shown}`);
    lines.push(`      ${definition.description}`);
  }
  lines.push('  --help, --version');
  return lines.join('\n');
}
