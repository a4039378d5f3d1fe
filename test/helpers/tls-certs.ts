// Throwaway certificates for TLS tests, made with the openssl command line in
// a directory of the caller's: a CA, and certificates it signs for 127.0.0.1
// (subjectAltName IP:127.0.0.1) that serve as server and client certificates
// alike (no extendedKeyUsage). EC P-256 keys: quick to make.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCa extends CertFiles {
  readonly dir: string;
}

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { timeout: 30000 });
}

export async function makeCa(dir: string, name = 'ca'): Promise<TestCa> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl(
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=Slotway test CA ${name}`,
  );
  return { dir, certFile, keyFile };
}

/** A certificate `ca` signs for `commonName`, valid for IP 127.0.0.1 and `dnsNames`; `serial` in hex (e.g. '1A2B'). */
export async function issueCert(
  ca: TestCa,
  name: string,
  commonName: string,
  serial: string,
  dnsNames: string[] = [],
): Promise<CertFiles> {
  const certFile = join(ca.dir, `${name}.crt`);
  const keyFile = join(ca.dir, `${name}.key`);
  const csr = join(ca.dir, `${name}.csr`);
  const extensions = join(ca.dir, `${name}.ext`);
  const altNames = ['IP:127.0.0.1', ...dnsNames.map((dns) => `DNS:${dns}`)].join(',');
  await writeFile(extensions, `subjectAltName = ${altNames}\nbasicConstraints = CA:FALSE\n`);
  await openssl(
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    keyFile,
    '-out',
    csr,
    '-subj',
    `/CN=${commonName}`,
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    `0x${serial}`,
    '-days',
    '2',
    '-extfile',
    extensions,
    '-out',
    certFile,
  );
  return { certFile, keyFile };
}
