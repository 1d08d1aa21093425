import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newAccountId } from '../../src/kernel/index.js';
import type { Scope } from '../../src/kernel/index.js';
import type { ProvisioningTemplateRecord, ProvisioningTemplateVersion } from '../../src/registry/index.js';
import { DuplicateKeyError } from '../../src/registry/ports.js';
import type { RegistryStore } from '../../src/registry/ports.js';

/**
 * The ProvisioningTemplateStore part of the RegistryStore contract (src/registry/ports.ts), run over any
 * implementation beside registry-store.contract.ts. Each test works in fresh random account ids.
 */

const REGION = 'us-east-1';
const T0 = Date.UTC(2025, 0, 1);
const at = (offsetMs: number): Date => new Date(T0 + offsetMs);
const newScope = (region = REGION): Scope => ({ accountId: newAccountId(), region });
const isDuplicate = (e: unknown): boolean => e instanceof DuplicateKeyError;

function makeTemplate(scope: Scope, templateName: string, overrides: Partial<ProvisioningTemplateRecord> = {}): ProvisioningTemplateRecord {
  return {
    scope,
    templateName,
    description: null,
    type: 'FLEET_PROVISIONING',
    enabled: false,
    provisioningRoleArn: 'arn:aws:iam::123456789012:role/Provisioning',
    preProvisioningHook: null,
    defaultVersionId: 1,
    nextVersionId: 2,
    creationDate: at(0),
    lastModifiedDate: at(0),
    ...overrides,
  };
}

function makeVersion(scope: Scope, templateName: string, versionId: number): ProvisioningTemplateVersion {
  return { scope, templateName, versionId, templateBody: `{"Resources":{},"v":${versionId}}`, creationDate: at(versionId) };
}

export function provisioningTemplateStoreContract(name: string, open: () => Promise<RegistryStore>): void {
  describe(`RegistryStore contract (provisioning templates): ${name}`, () => {
    let store: RegistryStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    it('round-trips a template with every field, and refuses a duplicate name with DuplicateKeyError', async () => {
      const scope = newScope();
      const full = makeTemplate(scope, 'full', {
        description: 'widgets',
        type: 'FLEET_PROVISIONING',
        enabled: true,
        preProvisioningHook: { targetArn: 'https://hooks.example/x', payloadVersion: '2020-04-01' },
        defaultVersionId: 3,
        nextVersionId: 7,
        lastModifiedDate: at(5000),
      });
      await store.insertProvisioningTemplate(full);
      assert.deepEqual(await store.getProvisioningTemplate(scope, 'full'), full);
      const jitp = makeTemplate(scope, 'jitp', { type: 'JITP' });
      await store.insertProvisioningTemplate(jitp);
      assert.deepEqual(await store.getProvisioningTemplate(scope, 'jitp'), jitp);
      await assert.rejects(store.insertProvisioningTemplate(makeTemplate(scope, 'full')), isDuplicate);
      assert.equal(await store.getProvisioningTemplate(scope, 'missing'), undefined);
    });

    it('keeps accounts and regions apart', async () => {
      const a = newScope();
      const b = newScope();
      const otherRegion = { accountId: a.accountId, region: 'eu-west-1' };
      await store.insertProvisioningTemplate(makeTemplate(a, 'same'));
      await store.insertProvisioningTemplate(makeTemplate(b, 'same', { enabled: true }));
      assert.equal((await store.getProvisioningTemplate(a, 'same'))?.enabled, false);
      assert.equal((await store.getProvisioningTemplate(b, 'same'))?.enabled, true);
      assert.equal(await store.getProvisioningTemplate(otherRegion, 'same'), undefined);
      assert.deepEqual(await store.listProvisioningTemplates(otherRegion, 10), []);
      assert.equal(await store.deleteProvisioningTemplate(otherRegion, 'same'), false);
    });

    it('updates a template; update and delete of a missing one return false', async () => {
      const scope = newScope();
      const t = makeTemplate(scope, 'upd');
      await store.insertProvisioningTemplate(t);
      const changed = { ...t, enabled: true, description: 'd', preProvisioningHook: { targetArn: 'http://h/x', payloadVersion: '2020-04-01' }, defaultVersionId: 2 };
      assert.equal(await store.updateProvisioningTemplate(changed), true);
      assert.deepEqual(await store.getProvisioningTemplate(scope, 'upd'), changed);
      assert.equal(await store.updateProvisioningTemplate(makeTemplate(scope, 'nope')), false);
      assert.equal(await store.deleteProvisioningTemplate(scope, 'nope'), false);
    });

    it('lists templates by name ascending with an exclusive afterName', async () => {
      const scope = newScope();
      for (const n of ['c', 'a', 'b', 'd']) await store.insertProvisioningTemplate(makeTemplate(scope, n));
      assert.deepEqual((await store.listProvisioningTemplates(scope, 10)).map((t) => t.templateName), ['a', 'b', 'c', 'd']);
      assert.deepEqual((await store.listProvisioningTemplates(scope, 2)).map((t) => t.templateName), ['a', 'b']);
      assert.deepEqual((await store.listProvisioningTemplates(scope, 2, 'b')).map((t) => t.templateName), ['c', 'd']);
      assert.deepEqual(await store.listProvisioningTemplates(scope, 2, 'd'), []);
    });

    it('stores versions, lists them oldest first, refuses a duplicate, deletes one', async () => {
      const scope = newScope();
      await store.insertProvisioningTemplate(makeTemplate(scope, 'v'));
      for (const id of [2, 10, 1]) await store.insertProvisioningTemplateVersion(makeVersion(scope, 'v', id));
      assert.deepEqual(await store.getProvisioningTemplateVersion(scope, 'v', 10), makeVersion(scope, 'v', 10));
      assert.deepEqual((await store.listProvisioningTemplateVersions(scope, 'v')).map((v) => v.versionId), [1, 2, 10]);
      await assert.rejects(store.insertProvisioningTemplateVersion(makeVersion(scope, 'v', 2)), isDuplicate);
      assert.equal(await store.deleteProvisioningTemplateVersion(scope, 'v', 2), true);
      assert.equal(await store.deleteProvisioningTemplateVersion(scope, 'v', 2), false);
      assert.equal(await store.getProvisioningTemplateVersion(scope, 'v', 2), undefined);
      assert.deepEqual(await store.listProvisioningTemplateVersions(newScope(), 'v'), []);
    });

    it('deleting a template deletes its versions, and a rolled-back transaction leaves nothing', async () => {
      const scope = newScope();
      await store.insertProvisioningTemplate(makeTemplate(scope, 'gone'));
      await store.insertProvisioningTemplateVersion(makeVersion(scope, 'gone', 1));
      await store.insertProvisioningTemplateVersion(makeVersion(scope, 'gone', 2));
      assert.equal(await store.deleteProvisioningTemplate(scope, 'gone'), true);
      assert.equal(await store.getProvisioningTemplate(scope, 'gone'), undefined);
      assert.deepEqual(await store.listProvisioningTemplateVersions(scope, 'gone'), []);

      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insertProvisioningTemplate(makeTemplate(scope, 'rollback'));
          await tx.insertProvisioningTemplateVersion(makeVersion(scope, 'rollback', 1));
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await store.getProvisioningTemplate(scope, 'rollback'), undefined);
      assert.deepEqual(await store.listProvisioningTemplateVersions(scope, 'rollback'), []);
    });
  });
}
