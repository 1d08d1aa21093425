import type { Scope } from '../../kernel/index.js';
import { createCertificateFromCsr, createKeysAndCertificate, deleteCertificate, getOwnedCertificate } from '../../registry/index.js';
import type { Certificate, RegistryDeps, RegistryEvent } from '../../registry/index.js';
import { decodeFleetPayload, encodeFleetPayload, readCreateCertificateFromCsrRequest, readCreateKeysAndCertificateRequest, readRegisterThingRequest } from './fleet-payload.js';
import { FleetRejection, invalidOwnershipToken, pendingLimitExceeded, provisioningDenied, templateNotFound, templateNotUsable, throttled, toFleetRejection } from './fleet-rejection.js';
import { DEFAULT_FLEET_LIMITS, PendingCertificates, RequestRate, scopeKey } from './fleet-limits.js';
import type { FleetLimits } from './fleet-limits.js';
import { CERTIFICATE_ID_PARAMETER } from '../template/provisioning-template.js';
import { acceptedTopic, isTemplateName, rejectedTopic } from './fleet-topics.js';
import type { FleetRequestTopic } from './fleet-topics.js';
import type { OwnershipTokens } from './ownership-token.js';
import type { FleetTemplates, PreProvisioningHookInvoker } from './ports.js';

/**
 * Fleet provisioning by claim (provisioning.md): CreateKeysAndCertificate, CreateCertificateFromCsr and
 * RegisterThing as the MQTT API answers them, plus the sweeper that deletes certificates nobody claimed
 * within the ownership token's lifetime. The broker hands requests in and delivers the one answer to the
 * requesting connection only.
 */

export interface FleetProvisioningDeps {
  readonly registry: RegistryDeps;
  readonly tokens: OwnershipTokens;
  readonly templates: FleetTemplates;
  readonly hook: PreProvisioningHookInvoker;
  /** Ownership token lifetime; a certificate still PENDING_ACTIVATION after it is deleted (AWS: one hour). */
  readonly tokenTtlMs: number;
  /** Per-account request rate and pending-certificate ceiling (default DEFAULT_FLEET_LIMITS). */
  readonly limits?: FleetLimits | undefined;
}

export interface FleetRequest {
  readonly scope: Scope;
  /** The claim certificate the request came with. */
  readonly claimCertificateId: string;
  readonly clientId: string;
  readonly request: FleetRequestTopic;
  readonly payload: Uint8Array;
}

export interface FleetResponse {
  readonly topic: string;
  readonly payload: Buffer;
  readonly accepted: boolean;
  /** What /rejected told the device (for the access log and `certgate why`). */
  readonly rejection?: { readonly statusCode: number; readonly errorCode: string; readonly errorMessage: string };
}

export interface FleetProvisioning {
  handle(request: FleetRequest): Promise<FleetResponse>;
  /** Deletes certificates created over MQTT and still PENDING_ACTIVATION after the token lifetime; returns how many. */
  sweepUnclaimed(): Promise<number>;
}

const SWEEP_PAGE = 100;
/** One sweep looks at most this many certificates (bounded loop); the next sweep continues. */
const SWEEP_MAX = 5_000;

export function createFleetProvisioning(deps: FleetProvisioningDeps): FleetProvisioning {
  const { registry, tokens } = deps;
  const log = registry.logger;
  /** Certificates a RegisterThing is working on: a second use of the same token meanwhile is refused. */
  const claiming = new Set<string>();
  const limits = deps.limits ?? DEFAULT_FLEET_LIMITS;
  const rate = new RequestRate(limits.requestsPerSecond);
  const pending = new PendingCertificates();

  /**
   * Runs `create` (a certificate issued PENDING_ACTIVATION) within the account's pending ceiling: a slot is
   * reserved before anything is awaited, so concurrent requests cannot overshoot it. At the ceiling, the
   * certificates counted are re-read first, at most once a second (activated or deleted through the API
   * since: no longer pending).
   */
  async function withinPendingLimit<T extends { certificateId: string; creationDate: Date }>(scope: Scope, create: () => Promise<T>): Promise<T> {
    const key = scopeKey(scope);
    const now = () => registry.clock.now().getTime();
    if (pending.count(key, now()) >= limits.pendingCertificates && pending.recheckDue(key, now())) {
      for (const id of pending.ids(key)) {
        const cert = await registry.store.getCertificate(scope, id);
        if (cert?.status !== 'PENDING_ACTIVATION') pending.delete(key, id);
      }
    }
    const count = pending.count(key, now());
    if (count >= limits.pendingCertificates) throw pendingLimitExceeded(count, limits.pendingCertificates);
    pending.reserve(key);
    let created: T | undefined;
    try {
      created = await create();
      return created;
    } finally {
      pending.release(key, created === undefined ? undefined : { certificateId: created.certificateId, expiresAt: created.creationDate.getTime() + deps.tokenTtlMs });
    }
  }

  async function createKeys(req: FleetRequest, body: unknown): Promise<object> {
    readCreateKeysAndCertificateRequest(body);
    const created = await withinPendingLimit(req.scope, async () => {
      const made = await createKeysAndCertificate(registry, req.scope, { pendingActivation: true });
      return { ...made, certificateId: made.certificate.certificateId, creationDate: made.certificate.creationDate };
    });
    const certificateId = created.certificate.certificateId;
    log.info({ ...who(req), certificateId }, 'fleet provisioning: CreateKeysAndCertificate issued a PENDING_ACTIVATION certificate');
    return {
      certificateId,
      certificatePem: created.certificate.certificatePem,
      privateKey: created.keyPair.PrivateKey,
      certificateOwnershipToken: tokens.issue(req.scope, certificateId, created.certificate.creationDate),
    };
  }

  async function createFromCsr(req: FleetRequest, body: unknown): Promise<object> {
    const input = readCreateCertificateFromCsrRequest(body);
    const cert = await withinPendingLimit(req.scope, () =>
      createCertificateFromCsr(registry, req.scope, { certificateSigningRequest: input.certificateSigningRequest, pendingActivation: true }),
    );
    log.info({ ...who(req), certificateId: cert.certificateId }, 'fleet provisioning: CreateCertificateFromCsr issued a PENDING_ACTIVATION certificate');
    return {
      certificateId: cert.certificateId,
      certificatePem: cert.certificatePem,
      certificateOwnershipToken: tokens.issue(req.scope, cert.certificateId, cert.creationDate),
    };
  }

  async function pendingCertificate(scope: Scope, certificateId: string): Promise<Certificate> {
    let cert: Certificate;
    try {
      cert = await getOwnedCertificate(registry.store, scope, certificateId);
    } catch {
      throw invalidOwnershipToken('The certificate of this ownership token no longer exists');
    }
    if (cert.status !== 'PENDING_ACTIVATION') {
      throw invalidOwnershipToken(`The certificate ownership token was already used (the certificate is ${cert.status})`);
    }
    return cert;
  }

  async function registerThing(req: FleetRequest, body: unknown): Promise<object> {
    const input = readRegisterThingRequest(body);
    const templateName = req.request.templateName ?? '';
    const template = isTemplateName(templateName) ? await deps.templates.get(req.scope, templateName) : undefined;
    if (template === undefined) throw templateNotFound(templateName);
    if (template.type !== 'FLEET_PROVISIONING') throw templateNotUsable(`Provisioning template ${templateName} is of type ${template.type}, not FLEET_PROVISIONING`);
    if (!template.enabled) throw templateNotUsable(`Provisioning template ${templateName} is disabled`);

    const claims = tokens.verify(input.certificateOwnershipToken, req.scope, registry.clock.now());
    const certificateId = claims.certificateId;
    if (claiming.has(certificateId)) throw invalidOwnershipToken('The certificate ownership token is already being used by another request');
    claiming.add(certificateId);
    try {
      const cert = await pendingCertificate(req.scope, certificateId);
      let parameters: Record<string, string> = { ...input.parameters };
      const hook = template.preProvisioningHook;
      if (hook !== undefined) {
        let answer;
        try {
          answer = await deps.hook.invoke(hook.targetArn, {
            claimCertificateId: req.claimCertificateId,
            certificateId,
            certificatePem: cert.certificatePem,
            templateArn: template.templateArn,
            clientId: req.clientId,
            parameters,
          }, req.scope);
        } catch (e) {
          throw new FleetRejection(403, 'AccessDenied', 'The pre-provisioning hook failed; provisioning is denied', { cause: e });
        }
        if (!answer.allowProvisioning) throw provisioningDenied('The pre-provisioning hook denied provisioning');
        parameters = { ...parameters, ...answer.parameterOverrides };
      }
      // The certificate is the one the token names, whatever the device or the hook sent.
      parameters[CERTIFICATE_ID_PARAMETER] = certificateId;
      await pendingCertificate(req.scope, certificateId); // still there and unclaimed after the hook
      const result = await deps.templates.apply({ scope: req.scope, template, parameters, certificateId });
      pending.delete(scopeKey(req.scope), certificateId);
      log.info({ ...who(req), certificateId, templateName, thingName: result.thingName }, 'fleet provisioning: RegisterThing provisioned the certificate');
      return { deviceConfiguration: { ...result.deviceConfiguration }, ...(result.thingName !== undefined ? { thingName: result.thingName } : {}) };
    } finally {
      claiming.delete(certificateId);
    }
  }

  async function handle(req: FleetRequest): Promise<FleetResponse> {
    const format = req.request.format;
    try {
      // Over the account's rate: refused before anything is decoded or generated.
      if (!rate.take(scopeKey(req.scope), registry.clock.now().getTime())) {
        throw throttled(`Rate exceeded: this account may send ${limits.requestsPerSecond} fleet provisioning requests per second; retry later`);
      }
      const body = decodeFleetPayload(format, req.payload);
      const answer =
        req.request.api === 'CreateKeysAndCertificate'
          ? await createKeys(req, body)
          : req.request.api === 'CreateCertificateFromCsr'
            ? await createFromCsr(req, body)
            : await registerThing(req, body);
      return { topic: acceptedTopic(req.request), payload: encodeFleetPayload(format, answer), accepted: true };
    } catch (e) {
      const rejection = toFleetRejection(e);
      const fields = { ...who(req), statusCode: rejection.statusCode, errorCode: rejection.errorCode, why: rejection.message };
      if (rejection.statusCode >= 500) log.error({ ...fields, err: rejection.cause }, 'fleet provisioning: request failed');
      else log.warn({ ...fields, cause: causeText(rejection.cause) }, 'fleet provisioning: request rejected');
      const answer = rejection.toPayload();
      return { topic: rejectedTopic(req.request), payload: encodeFleetPayload(format, answer), accepted: false, rejection: answer };
    }
  }

  async function sweepUnclaimed(): Promise<number> {
    const createdBefore = new Date(registry.clock.now().getTime() - deps.tokenTtlMs);
    let deleted = 0;
    let after: { createdAt: Date; key: string } | undefined;
    for (let seen = 0; seen < SWEEP_MAX; ) {
      const page = await registry.store.listUnclaimedCertificates(createdBefore, { limit: SWEEP_PAGE, ascending: true, ...(after ? { after } : {}) });
      for (const cert of page) {
        if (claiming.has(cert.certificateId)) continue;
        try {
          // Re-read in the delete's transaction: an operator may have activated, deactivated or revoked it since the
          // page was read (kept then). Refused (and kept) when a thing or policy was attached: AWS deletes only
          // unattached ones.
          const held: RegistryEvent[] = [];
          const gone = await registry.store.transaction(async (store) => {
            const current = await store.getCertificate(cert.scope, cert.certificateId);
            if (current?.status !== 'PENDING_ACTIVATION') return false;
            await deleteCertificate({ ...registry, store, events: { emit: async (e) => void held.push(e) } }, cert.scope, { certificateId: cert.certificateId });
            return true;
          });
          for (const e of held) await registry.events.emit(e);
          if (!gone) continue;
          pending.delete(scopeKey(cert.scope), cert.certificateId);
          deleted++;
          log.info({ accountId: cert.scope.accountId, region: cert.scope.region, certificateId: cert.certificateId }, 'fleet provisioning: deleted a certificate not provisioned within the ownership token lifetime');
        } catch (e) {
          log.debug({ certificateId: cert.certificateId, cause: causeText(e) }, 'fleet provisioning: unclaimed certificate kept');
        }
      }
      seen += page.length;
      const last = page.at(-1);
      if (page.length < SWEEP_PAGE || last === undefined) break;
      after = { createdAt: last.creationDate, key: last.certificateId };
    }
    return deleted;
  }

  return { handle, sweepUnclaimed };
}

function who(req: FleetRequest): Record<string, string> {
  return {
    api: req.request.api,
    topic: req.request.topic,
    accountId: req.scope.accountId,
    region: req.scope.region,
    claimCertificateId: req.claimCertificateId,
    clientId: req.clientId,
  };
}

function causeText(e: unknown): string | undefined {
  const text = e instanceof Error ? e.message : e === undefined ? undefined : String(e);
  return text?.slice(0, 300);
}
