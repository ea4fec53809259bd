/**
 * NSS softokn (`libsoftokn3.so`, Debian libnss3 + libnss3-tools) with a key database of its own.
 *
 * softokn only starts with an init string in C_Initialize's `pReserved` naming its database
 * directory, so the environment carries PKCS11_INIT_RESERVED. Of its two slots, the second (the
 * database token) has a login and keeps token objects; the init string gives it our label.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findCommand, run } from './process.js';
import { findLibrary, multiarchLibDir, provisionWith, type ProvisionedModule } from './provisioned.js';

/** The label the init string gives NSS's database token (its own default is "NSS Certificate DB"). */
export const NSS_TOKEN_LABEL = 'pkcs11-ts nss';

/** The user PIN of a provisioned NSS database (its password). */
const NSS_PIN = '1234';

/**
 * The softokn init string for a database directory. The values are single-quoted, so a
 * directory with a quote in its name is refused.
 */
export function nssInitString(dir: string, tokenLabel = NSS_TOKEN_LABEL): string {
  if (dir.includes("'") || tokenLabel.includes("'"))
    throw new RangeError('dir and tokenLabel must not contain a quote');
  return [
    `configdir='sql:${dir}'`,
    "certPrefix=''",
    "keyPrefix=''",
    "secmod='secmod.db'",
    'flags=',
    `dbTokenDescription='${tokenLabel}'`,
  ].join(' ');
}

/**
 * Creates an NSS database (`certutil -N`) with a user PIN in a temporary directory.
 * There is no Security Officer PIN: softokn allows an SO login only while the database has no
 * password, so PKCS11_SO_PIN is left out and the tests that need it skip.
 *
 * @example
 * await using nss = await provisionNss();
 * const lib = await Library.load(nss.modulePath, { initReserved: nss.env.PKCS11_INIT_RESERVED });
 */
export async function provisionNss(): Promise<ProvisionedModule> {
  const modulePath = await findLibrary('libnss3', 'libsoftokn3.so', [
    `${multiarchLibDir()}/libsoftokn3.so`,
    '/usr/lib64/libsoftokn3.so',
  ]);
  const certutil = await findCommand('certutil', 'libnss3-tools');
  return provisionWith('nss', async (dir) => {
    const db = join(dir, 'db');
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${NSS_PIN}\n`, { mode: 0o600 });
    await mkdir(db, { mode: 0o700 });
    await run(certutil, ['-N', '-d', `sql:${db}`, '-f', passwordFile]);
    return {
      PKCS11_MODULE: modulePath,
      PKCS11_TOKEN_LABEL: NSS_TOKEN_LABEL,
      PKCS11_PIN: NSS_PIN,
      PKCS11_INIT_RESERVED: nssInitString(db),
    };
  });
}
