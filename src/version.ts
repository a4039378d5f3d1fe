// Slotway's version, read once from package.json.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const text = readFileSync(new URL(path, import.meta.url), 'utf8');
      const parsed = JSON.parse(text) as { name?: string; version?: string };
      if (parsed.name === 'slotway' && parsed.version !== undefined) return parsed.version;
    } catch {
      // try the next location: src/ runs from dist/src/
    }
  }
  return '0.0.0';
}

export const SLOTWAY_VERSION = readVersion();
