/**
 * `$aws/` topics are the service's (data-plane.md "Reserved topics"): devices may publish on the ones
 * meant for them (basic ingest `$aws/rules/`, shadows `$aws/things/`, provisioning), never on
 * `$aws/events/...` or other `$` topics.
 */
const DEVICE_PUBLISHABLE_PREFIXES = ['$aws/rules/', '$aws/things/', '$aws/certificates/', '$aws/provisioning-templates/'] as const;

/** Why a client may not publish on `topic`, or undefined. */
export function reservedPublishProblem(topic: string): string | undefined {
  if (!topic.startsWith('$')) return undefined;
  for (const prefix of DEVICE_PUBLISHABLE_PREFIXES) if (topic.startsWith(prefix)) return undefined;
  if (topic.startsWith('$aws/events/')) return 'clients may not publish on $aws/events/ (reserved for lifecycle events)';
  return `topic ${JSON.stringify(topic)} is reserved: clients may publish only on ${DEVICE_PUBLISHABLE_PREFIXES.join(', ')} among $ topics`;
}

/** Basic ingest (`$aws/rules/<rule>/...`) goes to the rules engine only, never to subscribers (AWS "Basic Ingest"). */
export function isBasicIngest(topic: string): boolean {
  return topic.startsWith('$aws/rules/');
}
