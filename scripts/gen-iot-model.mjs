#!/usr/bin/env node
/**
 * Generates src/api/model/iot-model.json from the botocore model of AWS IoT (2015-05-28):
 * the operations certgate serves, every exception shape, and the transitive closure of their
 * shapes, with all prose (documentation, deprecatedMessage, documentationUrl) stripped.
 * Usage: node scripts/gen-iot-model.mjs [path/to/service-2.json.gz]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const OPERATIONS = [
  'CreateKeysAndCertificate', 'CreateCertificateFromCsr', 'RegisterCertificate', 'RegisterCertificateWithoutCA',
  'DescribeCertificate', 'ListCertificates', 'ListCertificatesByCA', 'UpdateCertificate', 'DeleteCertificate',
  'GetRegistrationCode', 'DeleteRegistrationCode', 'RegisterCACertificate', 'DescribeCACertificate',
  'ListCACertificates', 'UpdateCACertificate', 'DeleteCACertificate', 'CreateThing', 'DescribeThing', 'ListThings',
  'UpdateThing', 'DeleteThing', 'AttachThingPrincipal', 'DetachThingPrincipal', 'ListThingPrincipals',
  'ListPrincipalThings', 'CreatePolicy', 'GetPolicy', 'ListPolicies', 'DeletePolicy', 'CreatePolicyVersion',
  'GetPolicyVersion', 'ListPolicyVersions', 'SetDefaultPolicyVersion', 'DeletePolicyVersion', 'AttachPolicy',
  'DetachPolicy', 'ListAttachedPolicies', 'ListTargetsForPolicy', 'DescribeEndpoint', 'TestAuthorization',
  'TransferCertificate', 'AcceptCertificateTransfer', 'RejectCertificateTransfer', 'CancelCertificateTransfer',
  'ListOutgoingCertificates', 'AttachPrincipalPolicy', 'DetachPrincipalPolicy', 'ListPrincipalPolicies',
  'ListPolicyPrincipals', 'GetEffectivePolicies', 'ListThingPrincipalsV2', 'ListPrincipalThingsV2',
  'CreateProvisioningTemplate', 'DescribeProvisioningTemplate', 'ListProvisioningTemplates',
  'UpdateProvisioningTemplate', 'DeleteProvisioningTemplate', 'CreateProvisioningTemplateVersion',
  'DescribeProvisioningTemplateVersion', 'ListProvisioningTemplateVersions', 'DeleteProvisioningTemplateVersion',
];

const PROSE_KEYS = new Set(['documentation', 'documentationUrl', 'deprecatedMessage']);

function modelPath() {
  if (process.argv[2]) return process.argv[2];
  const dir = execFileSync('python3', ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'], {
    encoding: 'utf8',
  }).trim();
  return join(dir, 'data', 'iot', '2015-05-28', 'service-2.json.gz');
}

/** Deep copy without prose keys. */
function strip(value) {
  if (Array.isArray(value)) return value.map(strip);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (!PROSE_KEYS.has(k)) out[k] = strip(v);
    return out;
  }
  return value;
}

/** Names of the shapes a shape refers to directly. */
function referencedShapes(shape) {
  const refs = [];
  for (const m of Object.values(shape.members ?? {})) refs.push(m.shape);
  for (const key of ['member', 'key', 'value']) if (shape[key]) refs.push(shape[key].shape);
  return refs;
}

function main() {
  const src = modelPath();
  const model = JSON.parse(gunzipSync(readFileSync(src)).toString('utf8'));
  const operations = {};
  const pending = [];
  for (const name of OPERATIONS) {
    const op = model.operations[name];
    if (!op) throw new Error(`operation ${name} is not in ${src}`);
    operations[name] = strip(op);
    if (op.input) pending.push(op.input.shape);
    if (op.output) pending.push(op.output.shape);
    for (const e of op.errors ?? []) pending.push(e.shape);
  }
  for (const [name, shape] of Object.entries(model.shapes)) if (shape.exception) pending.push(name);

  const keep = new Set();
  while (pending.length > 0) {
    const name = pending.pop();
    if (keep.has(name)) continue;
    const shape = model.shapes[name];
    if (!shape) throw new Error(`shape ${name} is referenced but missing`);
    keep.add(name);
    pending.push(...referencedShapes(shape));
  }
  const shapes = {};
  for (const name of [...keep].sort()) shapes[name] = strip(model.shapes[name]);

  const out = { metadata: strip(model.metadata), operations, shapes };
  const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'api', 'model', 'iot-model.json');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, JSON.stringify(out, null, 1) + '\n');
  process.stdout.write(`wrote ${target}: ${Object.keys(operations).length} operations, ${keep.size} shapes\n`);
}

main();
