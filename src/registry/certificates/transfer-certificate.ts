import {
  certificateState,
  invalidRequest,
  iotArn,
  resourceAlreadyExists,
  resourceNotFound,
  transferAlreadyCompleted,
  transferConflict,
} from '../../kernel/index.js';
import type { Scope } from '../../kernel/index.js';
import type { Certificate } from '../entities.js';
import type { RegistryStore } from '../ports.js';
import type { RegistryDeps } from '../registry-deps.js';
import { revised } from './new-certificate-record.js';

/** TransferCertificate (source): INACTIVE, no policy, no thing → PENDING_TRANSFER to the target account. */
export async function transferCertificate(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificateId: string; targetAwsAccount: string; transferMessage?: string | undefined },
): Promise<string> {
  if (input.targetAwsAccount === scope.accountId) throw invalidRequest('The target account is the certificate owner');
  const arn = iotArn(scope, 'cert', input.certificateId);
  await deps.store.transaction(async (tx) => {
    const cert = await tx.getCertificate(scope, input.certificateId);
    if (!cert) throw resourceNotFound(`The certificate ${input.certificateId} does not exist`);
    if (cert.status === 'PENDING_TRANSFER') throw transferConflict('The certificate is already PENDING_TRANSFER');
    if (cert.status === 'ACTIVE') throw certificateState('The certificate is ACTIVE; deactivate it before transferring it');
    if (cert.status === 'REVOKED') throw certificateState('The certificate is REVOKED and cannot be transferred');
    if ((await tx.countAttachedPolicies(scope, arn)) > 0) throw transferConflict('Policies are attached to the certificate; detach them first');
    if ((await tx.countPrincipalThings(scope, arn)) > 0) throw transferConflict('Things are attached to the certificate; detach them first');
    const now = deps.clock.now();
    const transferData = input.transferMessage === undefined ? { transferDate: now } : { transferMessage: input.transferMessage, transferDate: now };
    await tx.updateCertificate(revised(cert, { status: 'PENDING_TRANSFER', transferTo: input.targetAwsAccount, transferData }, now));
  });
  await deps.events.emit({ type: 'certificate-status-changed', scope, certificateId: input.certificateId, status: 'PENDING_TRANSFER' });
  return arn;
}

async function offeredToCaller(tx: RegistryStore, scope: Scope, certificateId: string): Promise<Certificate> {
  const offered = await tx.getCertificateOfferedTo(scope, certificateId);
  if (offered) return offered;
  const owned = await tx.getCertificate(scope, certificateId);
  if (owned?.previousOwnedBy && owned.transferData.acceptDate) {
    throw transferAlreadyCompleted('The transfer of this certificate has already been completed');
  }
  throw resourceNotFound(`No pending transfer of certificate ${certificateId} to this account`);
}

/** AcceptCertificateTransfer (target): the certificate moves to the target account, INACTIVE unless setAsActive. */
export async function acceptCertificateTransfer(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificateId: string; setAsActive?: boolean | undefined },
): Promise<void> {
  const { from, status, detached } = await deps.store.transaction(async (tx) => {
    const cert = await offeredToCaller(tx, scope, input.certificateId);
    if (await tx.getCertificate(scope, input.certificateId)) {
      throw resourceAlreadyExists('The certificate is already registered in this account', input.certificateId, iotArn(scope, 'cert', input.certificateId));
    }
    const now = deps.clock.now();
    const moved = revised(
      cert,
      {
        scope,
        ownedBy: scope.accountId,
        previousOwnedBy: cert.ownedBy,
        status: input.setAsActive ? 'ACTIVE' : 'INACTIVE',
        transferTo: null,
        transferData: { ...cert.transferData, acceptDate: now },
      },
      now,
    );
    await tx.updateCertificate(moved, cert.scope);
    return { from: cert.scope, status: moved.status, detached: await detachEverywhere(tx, cert.scope, iotArn(cert.scope, 'cert', cert.certificateId)) };
  });
  // Committed: the data plane drops what it cached of the certificate and of its old ARN.
  await deps.events.emit({ type: 'certificate-status-changed', scope, certificateId: input.certificateId, status });
  const oldArn = iotArn(from, 'cert', input.certificateId);
  if (detached.policies > 0) await deps.events.emit({ type: 'policy-attachment-changed', scope: from, target: oldArn });
  if (detached.things > 0) await deps.events.emit({ type: 'thing-principals-changed', scope: from, principal: oldArn });
}

/** Rows read per pass while detaching (policies per target are at most 10; things may be more). */
const DETACH_PAGE = 100;

/**
 * The source account's policy and thing attachments of a certificate that leaves it (issue 10 #8). AWS requires
 * a transferred certificate detached from every policy and thing; attachments a store still holds (made during
 * a transfer before that was refused) must neither stay listed in the old account nor reapply if the
 * certificate comes back to it.
 */
async function detachEverywhere(tx: RegistryStore, from: Scope, arn: string): Promise<{ policies: number; things: number }> {
  // Each pass lists from the start what is still attached; a pass that removes nothing ends the loop.
  let policies = 0;
  for (let removed = -1; removed !== 0; ) {
    removed = 0;
    for (const a of await tx.listAttachedPolicies(from, arn, { limit: DETACH_PAGE, ascending: true })) {
      if (await tx.deletePolicyAttachment(from, a.policyName, arn)) removed++;
    }
    policies += removed;
  }
  let things = 0;
  for (let removed = -1; removed !== 0; ) {
    removed = 0;
    for (const l of await tx.listPrincipalThings(from, arn, DETACH_PAGE)) {
      if (await tx.deleteThingPrincipal(from, l.thingName, arn)) removed++;
    }
    things += removed;
  }
  return { policies, things };
}

/** RejectCertificateTransfer (target): back to the source, INACTIVE. */
export async function rejectCertificateTransfer(
  deps: RegistryDeps,
  scope: Scope,
  input: { certificateId: string; rejectReason?: string | undefined },
): Promise<void> {
  const source = await deps.store.transaction(async (tx) => {
    const cert = await offeredToCaller(tx, scope, input.certificateId);
    const now = deps.clock.now();
    const transferData =
      input.rejectReason === undefined
        ? { ...cert.transferData, rejectDate: now }
        : { ...cert.transferData, rejectReason: input.rejectReason, rejectDate: now };
    await tx.updateCertificate(revised(cert, { status: 'INACTIVE', transferTo: null, transferData }, now));
    return cert.scope;
  });
  await deps.events.emit({ type: 'certificate-status-changed', scope: source, certificateId: input.certificateId, status: 'INACTIVE' });
}

/** CancelCertificateTransfer (source): back to INACTIVE. */
export async function cancelCertificateTransfer(deps: RegistryDeps, scope: Scope, input: { certificateId: string }): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const cert = await tx.getCertificate(scope, input.certificateId);
    if (!cert) throw resourceNotFound(`The certificate ${input.certificateId} does not exist`);
    if (cert.status !== 'PENDING_TRANSFER') {
      if (cert.transferData.transferDate) throw transferAlreadyCompleted('The transfer of this certificate has already ended');
      throw invalidRequest('The certificate is not PENDING_TRANSFER');
    }
    await tx.updateCertificate(revised(cert, { status: 'INACTIVE', transferTo: null }, deps.clock.now()));
  });
  await deps.events.emit({ type: 'certificate-status-changed', scope, certificateId: input.certificateId, status: 'INACTIVE' });
}
