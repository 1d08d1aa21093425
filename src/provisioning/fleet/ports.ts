import type { Scope } from '../../kernel/index.js';

/** What the fleet provisioning flow needs from outside: provisioning templates and the pre-provisioning hook. */

export interface FleetProvisioningTemplate {
  readonly templateName: string;
  readonly templateArn: string;
  readonly type: 'FLEET_PROVISIONING' | 'JITP';
  readonly enabled: boolean;
  /** The default version's body. */
  readonly templateBody: string;
  readonly preProvisioningHook?: { readonly targetArn: string; readonly payloadVersion?: string | undefined } | undefined;
}

export interface FleetTemplateResult {
  readonly thingName: string | undefined;
  readonly deviceConfiguration: Readonly<Record<string, string>>;
}

export interface FleetTemplates {
  get(scope: Scope, templateName: string): Promise<FleetProvisioningTemplate | undefined>;
  /** Runs the template all-or-nothing (throws an IotError and leaves nothing behind on failure). */
  apply(input: {
    readonly scope: Scope;
    readonly template: FleetProvisioningTemplate;
    readonly parameters: Readonly<Record<string, string>>;
    readonly certificateId: string;
  }): Promise<FleetTemplateResult>;
}

/** The object AWS IoT sends to a pre-provisioning hook (pre-provisioning-hook.html, "Pre-provision hook input"). */
export interface PreProvisioningHookInput {
  readonly claimCertificateId: string;
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly templateArn: string;
  readonly clientId: string;
  readonly parameters: Readonly<Record<string, string>>;
}

export interface PreProvisioningHookResult {
  readonly allowProvisioning: boolean;
  readonly parameterOverrides: Readonly<Record<string, string>>;
}

/**
 * Calls a template's hook. Resolves with the hook's answer; rejects when the hook cannot be called, times out
 * or answers something malformed — the flow treats every rejection as a denial (deny by default).
 */
export interface PreProvisioningHookInvoker {
  /** `scope`: the template's account and region — whose hook this is (an operator may allow a hook to one account only). */
  invoke(targetArn: string, input: PreProvisioningHookInput, scope: Scope): Promise<PreProvisioningHookResult>;
}
