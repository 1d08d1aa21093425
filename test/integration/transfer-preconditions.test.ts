// Issue 10 #8: transfers keep their preconditions. AWS (developer guide "Transfer a certificate to another
// account"; TransferCertificate in the API reference / botocore model): the certificate must be deactivated and
// detached from all policies and things before the transfer; after acceptance it belongs to the target only.
// So: no attachment while PENDING_TRANSFER (AttachPolicy, AttachThingPrincipal → InvalidRequestException, the
// error both operations' models list), and on AcceptCertificateTransfer the source account's attachments of the
// certificate go, so the old account no longer lists them and they do not come back with the certificate.
// Real server, two accounts, @aws-sdk/client-iot.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AcceptCertificateTransferCommand,
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CancelCertificateTransferCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingPrincipalsCommand,
  RejectCertificateTransferCommand,
  TransferCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { ALLOW_ALL_POLICY } from '../helpers/device.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { dataDirLayout } from '../../src/main/data-dir-layout.js';
import { openSqliteStore } from '../../src/store/index.js';

describe('issue 10 #8: transfers keep their preconditions (real server, two accounts)', { timeout: 180_000 }, () => {
  let server: RunningCertgate;
  let a: TestAccount;
  let b: TestAccount;
  let iotA: IoTClient;
  let iotB: IoTClient;
  let n = 0;

  before(async () => {
    server = await startCertgate();
    a = primaryAccount(server);
    b = await createAccount(server, 'transfer-preconditions-target');
    iotA = iotClient(a);
    iotB = iotClient(b);
  });

  after(async () => {
    iotA?.destroy();
    iotB?.destroy();
    await server?.stop();
  });

  /** An INACTIVE certificate of A, a policy and a thing of A (not attached), named uniquely. */
  async function fixture(): Promise<{ id: string; arnA: string; policyName: string; thingName: string }> {
    n++;
    const c = await iotA.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
    const policyName = `transfer-pre-${n}`;
    const thingName = `transfer-pre-thing-${n}`;
    await iotA.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
    await iotA.send(new CreateThingCommand({ thingName }));
    return { id: c.certificateId!, arnA: c.certificateArn!, policyName, thingName };
  }

  async function oldAccountSeesNothing(f: { arnA: string; policyName: string; thingName: string }): Promise<void> {
    const targets = await iotA.send(new ListTargetsForPolicyCommand({ policyName: f.policyName }));
    assert.deepEqual(targets.targets ?? [], [], 'ListTargetsForPolicy of the old account');
    const principals = await iotA.send(new ListThingPrincipalsCommand({ thingName: f.thingName }));
    assert.deepEqual(principals.principals ?? [], [], 'ListThingPrincipals of the old account');
    // The certificate is no longer the old account's: its ARN there names nothing.
    await expectIotError(iotA.send(new ListAttachedPoliciesCommand({ target: f.arnA })), 'ResourceNotFoundException', 404);
    await expectIotError(iotA.send(new ListPrincipalThingsCommand({ principal: f.arnA })), 'ResourceNotFoundException', 404);
  }

  it('issue 10 #8: while PENDING_TRANSFER, the sending account cannot attach a policy or a thing (InvalidRequestException)', async () => {
    const f = await fixture();
    await iotA.send(new TransferCertificateCommand({ certificateId: f.id, targetAwsAccount: b.accountId }));
    const policy = await expectIotError(iotA.send(new AttachPolicyCommand({ policyName: f.policyName, target: f.arnA })), 'InvalidRequestException', 400);
    assert.match(policy.message, /PENDING_TRANSFER/);
    const thing = await expectIotError(iotA.send(new AttachThingPrincipalCommand({ thingName: f.thingName, principal: f.arnA })), 'InvalidRequestException', 400);
    assert.match(thing.message, /PENDING_TRANSFER/);
    // Detaching stays possible (idempotent), and nothing was attached.
    await iotA.send(new DetachPolicyCommand({ policyName: f.policyName, target: f.arnA }));
    await iotA.send(new DetachThingPrincipalCommand({ thingName: f.thingName, principal: f.arnA }));
    assert.deepEqual((await iotA.send(new ListAttachedPoliciesCommand({ target: f.arnA }))).policies ?? [], []);
    assert.deepEqual((await iotA.send(new ListPrincipalThingsCommand({ principal: f.arnA }))).things ?? [], []);

    // The target cannot attach to the offered certificate either: it is not the target's until accepted.
    const arnB = f.arnA.replace(`:${a.accountId}:`, `:${b.accountId}:`);
    await iotB.send(new CreatePolicyCommand({ policyName: f.policyName, policyDocument: JSON.stringify(ALLOW_ALL_POLICY) }));
    await expectIotError(iotB.send(new AttachPolicyCommand({ policyName: f.policyName, target: arnB })), 'ResourceNotFoundException', 404);

    // Accepted: the old account sees no trace; the new owner starts with no attachments and may attach.
    await iotB.send(new AcceptCertificateTransferCommand({ certificateId: f.id }));
    await oldAccountSeesNothing(f);
    assert.deepEqual((await iotB.send(new ListAttachedPoliciesCommand({ target: arnB }))).policies ?? [], []);
    await iotB.send(new AttachPolicyCommand({ policyName: f.policyName, target: arnB }));
    assert.deepEqual((await iotB.send(new ListAttachedPoliciesCommand({ target: arnB }))).policies?.map((p) => p.policyName), [f.policyName]);
  });

  it('issue 10 #8: rejected or cancelled, the certificate is back INACTIVE with its source and can be attached again', async () => {
    for (const end of ['reject', 'cancel'] as const) {
      const f = await fixture();
      await iotA.send(new TransferCertificateCommand({ certificateId: f.id, targetAwsAccount: b.accountId }));
      await expectIotError(iotA.send(new AttachPolicyCommand({ policyName: f.policyName, target: f.arnA })), 'InvalidRequestException', 400);
      if (end === 'reject') await iotB.send(new RejectCertificateTransferCommand({ certificateId: f.id }));
      else await iotA.send(new CancelCertificateTransferCommand({ certificateId: f.id }));
      await iotA.send(new AttachPolicyCommand({ policyName: f.policyName, target: f.arnA }));
      await iotA.send(new AttachThingPrincipalCommand({ thingName: f.thingName, principal: f.arnA }));
      assert.deepEqual((await iotA.send(new ListAttachedPoliciesCommand({ target: f.arnA }))).policies?.map((p) => p.policyName), [f.policyName], end);
      assert.deepEqual((await iotA.send(new ListPrincipalThingsCommand({ principal: f.arnA }))).things, [f.thingName], end);
      // …and, attached again, it cannot be transferred until detached (the precondition holds each time).
      await expectIotError(iotA.send(new TransferCertificateCommand({ certificateId: f.id, targetAwsAccount: b.accountId })), 'TransferConflictException', 409);
    }
  });

  it("issue 10 #8: accepting removes the source account's attachments (made during a transfer before this fix), so they do not reapply when the certificate comes back", async () => {
    const f = await fixture();
    await iotA.send(new TransferCertificateCommand({ certificateId: f.id, targetAwsAccount: b.accountId }));
    // Attachments a store may hold from before attachment during a transfer was refused: written straight into
    // the server's database (shared with the CLI process, as `certgate accounts` does).
    const store = await openSqliteStore({ file: dataDirLayout(server.dataDir).database });
    try {
      const scope = { accountId: a.accountId, region: a.region };
      await store.insertPolicyAttachment({ scope, policyName: f.policyName, target: f.arnA, createdAt: new Date() });
      await store.putThingPrincipal({ scope, thingName: f.thingName, principal: f.arnA, thingPrincipalType: 'NON_EXCLUSIVE_THING', createdAt: new Date() });
    } finally {
      await store.close();
    }
    assert.deepEqual((await iotA.send(new ListTargetsForPolicyCommand({ policyName: f.policyName }))).targets, [f.arnA], 'the legacy attachment is there');

    await iotB.send(new AcceptCertificateTransferCommand({ certificateId: f.id }));
    await oldAccountSeesNothing(f);

    // B (INACTIVE after acceptance) sends it back; A accepts: the old attachments do not reapply.
    await iotB.send(new TransferCertificateCommand({ certificateId: f.id, targetAwsAccount: a.accountId }));
    await iotA.send(new AcceptCertificateTransferCommand({ certificateId: f.id }));
    assert.deepEqual((await iotA.send(new ListAttachedPoliciesCommand({ target: f.arnA }))).policies ?? [], []);
    assert.deepEqual((await iotA.send(new ListPrincipalThingsCommand({ principal: f.arnA }))).things ?? [], []);
    assert.deepEqual((await iotA.send(new ListTargetsForPolicyCommand({ policyName: f.policyName }))).targets ?? [], []);
  });
});
