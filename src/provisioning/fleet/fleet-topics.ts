/**
 * The fleet provisioning MQTT API's topics (aws-reference.md §6): requests a device publishes and the
 * `/accepted` and `/rejected` topics the service answers on. Every topic under the two prefixes belongs to
 * the service: requests are answered, never routed to subscribers; the response topics are the service's.
 */

export type FleetPayloadFormat = 'json' | 'cbor';
export type FleetApi = 'CreateKeysAndCertificate' | 'CreateCertificateFromCsr' | 'RegisterThing';

export interface FleetRequestTopic {
  readonly api: FleetApi;
  readonly format: FleetPayloadFormat;
  /** RegisterThing only. */
  readonly templateName?: string;
  /** The topic the request arrived on (responses go to `<topic>/accepted` and `<topic>/rejected`). */
  readonly topic: string;
}

const CERTIFICATES_PREFIX = '$aws/certificates/';
const TEMPLATES_PREFIX = '$aws/provisioning-templates/';
/** Template names as the model allows them (CreateProvisioningTemplate templateName). */
const TEMPLATE_NAME_RE = /^[0-9A-Za-z_-]{1,36}$/;

/** True for every topic of the fleet provisioning API (requests and responses). */
export function isFleetProvisioningTopic(topic: string): boolean {
  return topic.startsWith(CERTIFICATES_PREFIX) || topic.startsWith(TEMPLATES_PREFIX);
}

function format(s: string | undefined): FleetPayloadFormat | undefined {
  return s === 'json' || s === 'cbor' ? s : undefined;
}

/** The request a topic names, or undefined (a response topic, or nothing the API defines). */
export function parseFleetRequestTopic(topic: string): FleetRequestTopic | undefined {
  if (topic.startsWith(CERTIFICATES_PREFIX)) {
    const [op, fmt, ...rest] = topic.slice(CERTIFICATES_PREFIX.length).split('/');
    const f = format(fmt);
    if (f === undefined || rest.length > 0) return undefined;
    if (op === 'create') return { api: 'CreateKeysAndCertificate', format: f, topic };
    if (op === 'create-from-csr') return { api: 'CreateCertificateFromCsr', format: f, topic };
    return undefined;
  }
  if (topic.startsWith(TEMPLATES_PREFIX)) {
    const [templateName, op, fmt, ...rest] = topic.slice(TEMPLATES_PREFIX.length).split('/');
    const f = format(fmt);
    if (f === undefined || rest.length > 0 || op !== 'provision' || templateName === undefined) return undefined;
    // A name the model would never accept still gets an answer (ResourceNotFound) as long as it is one level.
    return { api: 'RegisterThing', format: f, templateName, topic };
  }
  return undefined;
}

/** Whether a template name has the model's shape (others cannot exist). */
export function isTemplateName(name: string): boolean {
  return TEMPLATE_NAME_RE.test(name);
}

export function acceptedTopic(request: FleetRequestTopic): string {
  return `${request.topic}/accepted`;
}

export function rejectedTopic(request: FleetRequestTopic): string {
  return `${request.topic}/rejected`;
}

/** Why a device may not publish on a fleet provisioning topic, or undefined for a request topic. */
export function fleetPublishProblem(topic: string): string | undefined {
  if (!isFleetProvisioningTopic(topic)) return undefined;
  if (parseFleetRequestTopic(topic) !== undefined) return undefined;
  return `${JSON.stringify(topic)} is not a fleet provisioning request topic: devices publish only on $aws/certificates/create[-from-csr]/{json|cbor} and $aws/provisioning-templates/<name>/provision/{json|cbor}; /accepted and /rejected are the service's`;
}
