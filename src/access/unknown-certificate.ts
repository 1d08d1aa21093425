import type { Scope } from '../kernel/index.js';
import type { ParsedCertificate } from '../pki/index.js';
import type { Certificate } from '../registry/index.js';
import type { AdmissionResult, ConnectFollowUp, ConnectionPeer } from './device-access.js';

/**
 * The seam for just-in-time registration (JITR/JITP, provisioning.md): called when a well-formed
 * certificate is registered nowhere the connection could be placed. It receives the certificate,
 * the chain the device sent (the CA must be in it) and where the connection was headed.
 * Return an AdmissionResult to decide (e.g. register it PENDING_ACTIVATION and refuse, as AWS's JITR
 * does on the first connection), or undefined to fall back to UNKNOWN_CERTIFICATE.
 * Must be idempotent: an admission that raced with a registry event re-runs, and calls it again.
 * A rejection is logged and refuses the device (UNKNOWN_CERTIFICATE), never fails admit().
 */
export interface UnknownCertificateInput {
  /** The presented leaf, fully parsed (certificateId = SHA-256 of its DER). */
  readonly certificate: ParsedCertificate;
  readonly chainDer: readonly Uint8Array[];
  /** Set when SNI named an account endpoint; undefined when the connection had no usable SNI. */
  readonly scope: Scope | undefined;
  readonly region: string;
  readonly peer: ConnectionPeer;
}

export type UnknownCertificateHandler = (input: UnknownCertificateInput) => Promise<AdmissionResult | undefined>;

/** Today's behaviour: nothing is provisioned on the fly. */
export const refuseUnknownCertificate: UnknownCertificateHandler = () => Promise.resolve(undefined);

/**
 * JITR's second seam: a registered certificate that is still PENDING_ACTIVATION was presented. AWS publishes
 * the registered event again each time; return the follow-up that does so once CONNECT arrives, or undefined.
 */
export type PendingActivationHandler = (certificate: Certificate) => ConnectFollowUp | undefined;
