// PEM files -> a TLS context, and a watch on those files for hot reload.
// Off the hot path: contexts are built at start and on reload, then shared by
// every connection (building one parses and verifies every certificate).
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';

/** Paths of PEM files; '' = not given. */
export interface PemFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface LoadedPem {
  /** The file contents, for APIs that take options (tls.Server#setSecureContext). */
  readonly options: SecureContextOptions;
  readonly context: SecureContext;
}

/**
 * Reads the files and builds a context from them. Throws with the file's or
 * OpenSSL's reason (no such file, no PEM in it, key does not match the
 * certificate), so a caller can keep its previous context.
 */
export function loadPem(files: PemFiles): LoadedPem {
  const read = (path: string): Buffer | undefined => (path === '' ? undefined : readFileSync(path));
  const options: SecureContextOptions = { cert: read(files.cert), key: read(files.key), ca: read(files.ca) };
  // OpenSSL skips what is not a certificate in a CA bundle: an empty or garbled file would trust nothing, silently.
  if (options.ca !== undefined) {
    try {
      new X509Certificate(options.ca as Buffer);
    } catch (error) {
      throw new Error(`${files.ca} holds no PEM certificate (${(error as Error).message})`, { cause: error });
    }
  }
  return { options, context: createSecureContext(options) };
}

/** The paths given among `files`. */
export function pemPaths(files: PemFiles): string[] {
  return [files.cert, files.key, files.ca].filter((path) => path !== '');
}

/**
 * Calls `onChange` once watched files have changed and then stayed unchanged
 * for one more interval (a certificate and its key replaced one after the
 * other make one reload, not a failed one and a good one).
 *
 * It polls stat() rather than using fs.watch: stat follows symlinks, and a
 * Kubernetes Secret update swaps a `..data` symlink in the mounted directory,
 * which changes the file each path resolves to (another inode) while the
 * path's own link is never touched; fs.watch on the link would miss that.
 */
export class FileWatcher {
  readonly #paths: readonly string[];
  readonly #intervalMs: number;
  readonly #onChange: () => void;
  #settle: NodeJS.Timeout | null = null;

  constructor(paths: readonly string[], intervalMs: number, onChange: () => void) {
    this.#paths = [...new Set(paths)];
    this.#intervalMs = intervalMs;
    this.#onChange = onChange;
    for (const path of this.#paths) watchFile(path, { interval: intervalMs, persistent: false }, this.#onStat);
  }

  close(): void {
    for (const path of this.#paths) unwatchFile(path, this.#onStat);
    if (this.#settle !== null) clearTimeout(this.#settle);
    this.#settle = null;
  }

  readonly #onStat = (_current: Stats, _previous: Stats): void => {
    if (this.#settle !== null) clearTimeout(this.#settle);
    this.#settle = setTimeout(this.#fire, this.#intervalMs * 1.5); // past the next poll
    this.#settle.unref();
  };

  readonly #fire = (): void => {
    this.#settle = null;
    this.#onChange();
  };
}
