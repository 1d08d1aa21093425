/**
 * The only file that touches reflect-metadata and the @peculiar/x509 crypto provider. Every other pki
 * file reaches @peculiar/x509 values through `ensureX509Runtime()` (types may be imported directly),
 * so the polyfill is loaded before x509's dependency-injection container and the provider is set once.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
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
