import type { Scope } from '../../kernel/index.js';

/** Provisioning templates as stored (CreateProvisioningTemplate & co.). The body lives in its versions. */

export type ProvisioningTemplateKind = 'FLEET_PROVISIONING' | 'JITP';

/** Fleet provisioning's pre-provisioning hook: an http(s) URL here, or a Lambda ARN (recorded, not called). */
export interface PreProvisioningHook {
  readonly targetArn: string;
  readonly payloadVersion: string;
}

export interface ProvisioningTemplateRecord {
  readonly scope: Scope;
  readonly templateName: string;
  readonly description: string | null;
  readonly type: ProvisioningTemplateKind;
  readonly enabled: boolean;
  readonly provisioningRoleArn: string;
  readonly preProvisioningHook: PreProvisioningHook | null;
  readonly defaultVersionId: number;
  /** The next version number to hand out (versions are never reused). */
  readonly nextVersionId: number;
  readonly creationDate: Date;
  readonly lastModifiedDate: Date;
}

export interface ProvisioningTemplateVersion {
  readonly scope: Scope;
  readonly templateName: string;
  readonly versionId: number;
  readonly templateBody: string;
  readonly creationDate: Date;
}
