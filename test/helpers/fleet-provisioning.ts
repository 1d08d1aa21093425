// Fleet provisioning by claim against a real certgate: the claim policy AWS documents (provision-wo-cert), a
// request/response over mqtt.js that subscribes to /accepted and /rejected before publishing (JSON or CBOR),
// provisioning templates through @aws-sdk/client-iot, and a local HTTP pre-provisioning hook that records calls.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateProvisioningTemplateCommand } from '@aws-sdk/client-iot';
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import type { MqttClient } from 'mqtt';
import type { ApiAccount } from './iot-clients.js';
import { iotClient } from './iot-clients.js';

export const FLEET_WAIT_MS = 8_000;

/** AWS's example claim-certificate policy (provision-wo-cert.md), plus create-from-csr. */
export function claimPolicy(scope: { region: string; accountId: string }, templateName: string): object {
  const arn = (kind: 'topic' | 'topicfilter', rest: string): string => `arn:aws:iot:${scope.region}:${scope.accountId}:${kind}/${rest}`;
  const topics = ['$aws/certificates/create/*', '$aws/certificates/create-from-csr/*', `$aws/provisioning-templates/${templateName}/provision/*`];
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['iot:Connect'], Resource: '*' },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: topics.map((t) => arn('topic', t)) },
      { Effect: 'Allow', Action: ['iot:Subscribe'], Resource: topics.map((t) => arn('topicfilter', t)) },
    ],
  };
}

/** A fleet template: thing `<prefix><SerialNumber>`, the certificate ACTIVE, an allow-all policy, two device settings. */
export function fleetTemplateBody(thingPrefix: string): string {
  return JSON.stringify({
    Parameters: { SerialNumber: { Type: 'String' }, 'AWS::IoT::Certificate::Id': { Type: 'String' } },
    Resources: {
      thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { 'Fn::Join': ['', [thingPrefix, { Ref: 'SerialNumber' }]] } } },
      certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
      policy: {
        Type: 'AWS::IoT::Policy',
        Properties: { PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }) },
      },
    },
    DeviceConfiguration: { FallbackUrl: 'https://www.example.com/test-site', Serial: { Ref: 'SerialNumber' } },
  });
}

export async function createFleetTemplate(
  account: ApiAccount,
  templateName: string,
  opts: { body?: string; enabled?: boolean; type?: 'FLEET_PROVISIONING' | 'JITP'; hookUrl?: string } = {},
): Promise<void> {
  await iotClient(account).send(
    new CreateProvisioningTemplateCommand({
      templateName,
      templateBody: opts.body ?? fleetTemplateBody(`${templateName}-`),
      enabled: opts.enabled ?? true,
      provisioningRoleArn: 'arn:aws:iam::123456789012:role/provisioning',
      ...(opts.type !== undefined ? { type: opts.type } : {}),
      ...(opts.hookUrl !== undefined ? { preProvisioningHook: { targetArn: opts.hookUrl, payloadVersion: '2020-04-01' } } : {}),
    }),
  );
}

export type FleetAnswer =
  | { readonly outcome: 'accepted' | 'rejected'; readonly body: Record<string, unknown>; readonly raw: Buffer }
  | { readonly outcome: 'none' };

function subscribeBoth(client: MqttClient, topic: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK for ${topic}/+`)), FLEET_WAIT_MS);
    client.subscribe([`${topic}/accepted`, `${topic}/rejected`], { qos: 1 }, (err, granted) => {
      clearTimeout(timer);
      if (err) reject(err);
      else if (granted?.some((g) => g.qos === 128 || (g as { reasonCode?: number }).reasonCode === 0x87)) reject(new Error(`subscription refused: ${JSON.stringify(granted)}`));
      else resolve();
    });
  });
}

/**
 * One API call: subscribe to `<topic>/accepted` and `<topic>/rejected`, publish the request (QoS 1), wait for the
 * answer (bounded). `body` undefined publishes an empty payload.
 */
export async function fleetRequest(client: MqttClient, topic: string, body: object | undefined, opts: { raw?: Buffer; waitMs?: number } = {}): Promise<FleetAnswer> {
  const cbor = topic.endsWith('/cbor');
  await subscribeBoth(client, topic);
  const answer = new Promise<FleetAnswer>((resolve) => {
    const timer = setTimeout(() => {
      client.off('message', on);
      resolve({ outcome: 'none' });
    }, opts.waitMs ?? FLEET_WAIT_MS);
    const on = (t: string, payload: Buffer): void => {
      if (t !== `${topic}/accepted` && t !== `${topic}/rejected`) return;
      clearTimeout(timer);
      client.off('message', on);
      const decoded = (cbor ? cborDecode(payload) : JSON.parse(payload.toString('utf8'))) as Record<string, unknown>;
      resolve({ outcome: t.endsWith('/accepted') ? 'accepted' : 'rejected', body: decoded, raw: payload });
    };
    client.on('message', on);
  });
  const payload = opts.raw ?? (body === undefined ? Buffer.alloc(0) : cbor ? Buffer.from(cborEncode(body)) : Buffer.from(JSON.stringify(body)));
  client.publish(topic, payload, { qos: 1 });
  return answer;
}

export function accepted(a: FleetAnswer): Record<string, unknown> {
  assert.equal(a.outcome, 'accepted', `expected accepted, got ${a.outcome}${a.outcome !== 'none' ? ` ${JSON.stringify(a.body)}` : ''}`);
  return (a as { body: Record<string, unknown> }).body;
}

export function rejected(a: FleetAnswer, statusCode: number, errorCode: string): string {
  assert.equal(a.outcome, 'rejected', `expected rejected, got ${a.outcome}${a.outcome !== 'none' ? ` ${JSON.stringify(a.body)}` : ''}`);
  const body = (a as { body: Record<string, unknown> }).body;
  assert.equal(body['statusCode'], statusCode, JSON.stringify(body));
  assert.equal(body['errorCode'], errorCode, JSON.stringify(body));
  assert.equal(typeof body['errorMessage'], 'string');
  return String(body['errorMessage']);
}

export interface HookCall {
  readonly body: Record<string, unknown>;
}

export interface TestHook {
  readonly url: string;
  readonly port: number;
  /** The `--provisioning-hook-allow` entry that lets certgate call this hook for every account (`127.0.0.1:<port>`); `<account-id>=http://<allowEntry>/<path>` scopes it. */
  readonly allowEntry: string;
  readonly calls: HookCall[];
  /** What the hook answers next: status and JSON body, or raw bytes and extra headers; never answers when `hang`. */
  answer: (call: HookCall) => { status: number; body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; delayMs?: number; hang?: boolean };
  close(): Promise<void>;
}

/** A pre-provisioning hook on 127.0.0.1 (plain HTTP), answering what `answer` says. */
export async function startTestHook(): Promise<TestHook> {
  const hook: TestHook = {
    url: '',
    port: 0,
    allowEntry: '',
    calls: [],
    answer: () => ({ status: 200, body: { allowProvisioning: true } }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = { unparsable: true };
      }
      const call = { body };
      hook.calls.push(call);
      const out = hook.answer(call);
      if (out.hang === true) return;
      setTimeout(() => {
        res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
        res.end(out.raw ?? JSON.stringify(out.body));
      }, out.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(hook, { url: `http://127.0.0.1:${port}/hook`, port, allowEntry: `127.0.0.1:${port}` });
  return hook;
}
