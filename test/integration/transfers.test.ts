// Certificate transfer between accounts (TransferCertificate / Accept / Reject / Cancel,
// ListOutgoingCertificates, transferData, ownedBy/previousOwnedBy), multi-account registration
// (the same certificate in two accounts: SNI_ONLY yes, DEFAULT no) and DeleteRegistrationCode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AcceptCertificateTransferCommand,
  AttachPolicyCommand,
  CancelCertificateTransferCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  DeleteCertificateCommand,
  DeleteRegistrationCodeCommand,
  DescribeCertificateCommand,
  DetachPolicyCommand,
  GetRegistrationCodeCommand,
  ListCertificatesCommand,
  ListOutgoingCertificatesCommand,
  RegisterCertificateWithoutCACommand,
  RejectCertificateTransferCommand,
  TransferCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IoTClient } from '@aws-sdk/client-iot';
import { createAccount, primaryAccount } from '../helpers/accounts.js';
import type { TestAccount } from '../helpers/accounts.js';
import { startCertgate } from '../helpers/certgate-process.js';
import type { RunningCertgate } from '../helpers/certgate-process.js';
import { expectIotError, iotClient } from '../helpers/iot-clients.js';
import { TestPki } from '../helpers/openssl.js';

describe('certificate transfer and multi-account registration', () => {
  let server: RunningCertgate;
  let a: TestAccount;
  let b: TestAccount;
  let iotA: IoTClient;
  let iotB: IoTClient;
  let pki: TestPki;

  before(async () => {
    server = await startCertgate();
    a = primaryAccount(server);
    b = await createAccount(server, 'transfer-target');
    iotA = iotClient(a);
    iotB = iotClient(b);
    pki = await TestPki.create();
  });

  after(async () => {
    await pki?.cleanup();
    await server?.stop();
  });

  async function inactiveCertificateOfA(): Promise<string> {
    const c = await iotA.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
    return c.certificateId!;
  }

  it('an ACTIVE certificate cannot be transferred (CertificateStateException)', async () => {
    const c = await iotA.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    await expectIotError(
      iotA.send(new TransferCertificateCommand({ certificateId: c.certificateId!, targetAwsAccount: b.accountId })),
      'CertificateStateException',
      406,
    );
  });

  it('a certificate with a policy attached cannot be transferred (TransferConflictException)', async () => {
    const c = await iotA.send(new CreateKeysAndCertificateCommand({}));
    await iotA.send(
      new CreatePolicyCommand({
        policyName: 'transfer-blocker',
        policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }] }),
      }),
    );
    await iotA.send(new AttachPolicyCommand({ policyName: 'transfer-blocker', target: c.certificateArn! }));
    await expectIotError(
      iotA.send(new TransferCertificateCommand({ certificateId: c.certificateId!, targetAwsAccount: b.accountId })),
      'TransferConflictException',
      409,
    );
    await iotA.send(new DetachPolicyCommand({ policyName: 'transfer-blocker', target: c.certificateArn! }));
  });

  it('transfer → PENDING_TRANSFER, seen by the target; accept moves it with ownedBy/previousOwnedBy and transferData', async () => {
    const id = await inactiveCertificateOfA();
    const out = await iotA.send(new TransferCertificateCommand({ certificateId: id, targetAwsAccount: b.accountId, transferMessage: 'for you' }));
    assert.ok(out.transferredCertificateArn?.endsWith(`cert/${id}`));

    const source = (await iotA.send(new DescribeCertificateCommand({ certificateId: id }))).certificateDescription!;
    assert.equal(source.status, 'PENDING_TRANSFER');
    assert.equal(source.transferData?.transferMessage, 'for you');
    assert.ok(source.transferData?.transferDate instanceof Date);

    const outgoing = await iotA.send(new ListOutgoingCertificatesCommand({}));
    const row = outgoing.outgoingCertificates?.find((o) => o.certificateId === id);
    assert.equal(row?.transferredTo, b.accountId);
    assert.equal(row?.transferMessage, 'for you');

    const targetList = await iotB.send(new ListCertificatesCommand({}));
    assert.equal(targetList.certificates?.find((c) => c.certificateId === id)?.status, 'PENDING_TRANSFER');
    await expectIotError(iotA.send(new UpdateCertificateCommand({ certificateId: id, newStatus: 'ACTIVE' })), 'CertificateStateException', 406);
    await expectIotError(iotA.send(new DeleteCertificateCommand({ certificateId: id })), 'CertificateStateException', 406);

    await iotB.send(new AcceptCertificateTransferCommand({ certificateId: id, setAsActive: true }));
    const moved = (await iotB.send(new DescribeCertificateCommand({ certificateId: id }))).certificateDescription!;
    assert.equal(moved.status, 'ACTIVE');
    assert.equal(moved.ownedBy, b.accountId);
    assert.equal(moved.previousOwnedBy, a.accountId);
    assert.ok(moved.certificateArn?.includes(`:${b.accountId}:cert/`));
    assert.ok(moved.transferData?.acceptDate instanceof Date);
    await expectIotError(iotA.send(new DescribeCertificateCommand({ certificateId: id })), 'ResourceNotFoundException', 404);
    await expectIotError(iotB.send(new AcceptCertificateTransferCommand({ certificateId: id })), 'TransferAlreadyCompletedException', 410);
  });

  it('reject → back to the source as INACTIVE with the reason; cancel → INACTIVE; a second cancel → TransferAlreadyCompleted', async () => {
    const rejected = await inactiveCertificateOfA();
    await iotA.send(new TransferCertificateCommand({ certificateId: rejected, targetAwsAccount: b.accountId }));
    await iotB.send(new RejectCertificateTransferCommand({ certificateId: rejected, rejectReason: 'not ours' }));
    const back = (await iotA.send(new DescribeCertificateCommand({ certificateId: rejected }))).certificateDescription!;
    assert.equal(back.status, 'INACTIVE');
    assert.equal(back.ownedBy, a.accountId);
    assert.equal(back.transferData?.rejectReason, 'not ours');
    assert.ok(back.transferData?.rejectDate instanceof Date);
    await expectIotError(iotB.send(new DescribeCertificateCommand({ certificateId: rejected })), 'ResourceNotFoundException', 404);

    const cancelled = await inactiveCertificateOfA();
    await iotA.send(new TransferCertificateCommand({ certificateId: cancelled, targetAwsAccount: b.accountId }));
    await iotA.send(new CancelCertificateTransferCommand({ certificateId: cancelled }));
    assert.equal((await iotA.send(new DescribeCertificateCommand({ certificateId: cancelled }))).certificateDescription!.status, 'INACTIVE');
    await expectIotError(iotB.send(new AcceptCertificateTransferCommand({ certificateId: cancelled })), 'ResourceNotFoundException', 404);
    await expectIotError(iotA.send(new CancelCertificateTransferCommand({ certificateId: cancelled })), 'TransferAlreadyCompletedException', 410);
  });

  it('only the target can accept; transferring to oneself or a malformed account id is refused', async () => {
    const id = await inactiveCertificateOfA();
    await expectIotError(iotA.send(new TransferCertificateCommand({ certificateId: id, targetAwsAccount: a.accountId })), 'InvalidRequestException', 400);
    await expectIotError(iotA.send(new TransferCertificateCommand({ certificateId: id, targetAwsAccount: '12345' })), 'InvalidRequestException', 400);
    await iotA.send(new TransferCertificateCommand({ certificateId: id, targetAwsAccount: b.accountId }));
    await expectIotError(iotA.send(new AcceptCertificateTransferCommand({ certificateId: id })), 'ResourceNotFoundException', 404);
  });

  it('the same certificate registers in two accounts only in SNI_ONLY mode', async () => {
    const self = await pki.makeSelfSigned({ cn: 'multi-account-device' }); // a device certificate: a CA one is refused (issue 10 #5)
    const inA = await iotA.send(new RegisterCertificateWithoutCACommand({ certificatePem: self.certPem, status: 'ACTIVE' }));
    const inB = await iotB.send(new RegisterCertificateWithoutCACommand({ certificatePem: self.certPem, status: 'ACTIVE' }));
    assert.equal(inA.certificateId, inB.certificateId);
    assert.notEqual(inA.certificateArn, inB.certificateArn);
    const descB = (await iotB.send(new DescribeCertificateCommand({ certificateId: inB.certificateId! }))).certificateDescription!;
    assert.equal(descB.certificateMode, 'SNI_ONLY');
  });

  it('DeleteRegistrationCode makes GetRegistrationCode return a new code; deleting twice → ResourceNotFound', async () => {
    const first = (await iotB.send(new GetRegistrationCodeCommand({}))).registrationCode!;
    await iotB.send(new DeleteRegistrationCodeCommand({}));
    await expectIotError(iotB.send(new DeleteRegistrationCodeCommand({})), 'ResourceNotFoundException', 404);
    const second = (await iotB.send(new GetRegistrationCodeCommand({}))).registrationCode!;
    assert.match(second, /^[0-9a-f]{64}$/);
    assert.notEqual(second, first);
  });
});
