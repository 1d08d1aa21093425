/**
 * The only file that touches reflect-metadata, the @peculiar/x509 crypto provider and pkijs's crypto
 * engine. Every other pki file reaches @peculiar/x509 values through `ensureX509Runtime()` and pkijs
 * through `ensurePkijsRuntime()` (types may be imported directly), so the polyfill is loaded before x509's
 * dependency-injection container and each library's crypto is set once, to node's WebCrypto.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { webcrypto } from 'node:crypto';

export type X509Api = typeof x509;

let ready = false;

/** Sets node's WebCrypto as x509's crypto provider on first use, then returns the x509 module. */
export function ensureX509Runtime(): X509Api {
  if (!ready) {
    x509.cryptoProvider.set(x509.CryptoProvider.DEFAULT, webcrypto as Parameters<typeof x509.cryptoProvider.set>[1]);
    ready = true;
  }
  return x509;
}

/** node's WebCrypto, for importing keys that x509 then signs or verifies with. */
export function subtleCrypto(): webcrypto.SubtleCrypto {
  return webcrypto.subtle;
}

export type PkijsApi = typeof pkijs;

let pkijsEngine: pkijs.CryptoEngine | undefined;

/**
 * Sets node's WebCrypto as pkijs's engine on first use (pkijs falls back to its global engine where no
 * engine is passed), then returns the pkijs module and that engine, to pass explicitly where pkijs takes one.
 */
export function ensurePkijsRuntime(): { readonly pkijs: PkijsApi; readonly engine: pkijs.CryptoEngine } {
  if (pkijsEngine === undefined) {
    pkijsEngine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] });
    pkijs.setEngine('node', pkijsEngine);
  }
  return { pkijs, engine: pkijsEngine };
}
