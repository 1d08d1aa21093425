import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptedTopic, fleetPublishProblem, parseFleetRequestTopic, rejectedTopic } from './fleet-topics.js';

describe('fleet provisioning topics (aws-reference.md §6)', () => {
  it('parses the three request topics in json and cbor', () => {
    assert.deepEqual(parseFleetRequestTopic('$aws/certificates/create/json'), { api: 'CreateKeysAndCertificate', format: 'json', topic: '$aws/certificates/create/json' });
    assert.equal(parseFleetRequestTopic('$aws/certificates/create-from-csr/cbor')?.api, 'CreateCertificateFromCsr');
    const r = parseFleetRequestTopic('$aws/provisioning-templates/my_Tpl-1/provision/json');
    assert.equal(r?.api, 'RegisterThing');
    assert.equal(r?.templateName, 'my_Tpl-1');
    assert.equal(acceptedTopic(r!), '$aws/provisioning-templates/my_Tpl-1/provision/json/accepted');
    assert.equal(rejectedTopic(r!), '$aws/provisioning-templates/my_Tpl-1/provision/json/rejected');
  });

  it('response topics, other formats and unknown operations are not requests and may not be published', () => {
    for (const t of [
      '$aws/certificates/create/json/accepted',
      '$aws/certificates/create-from-csr/json/rejected',
      '$aws/certificates/create/xml',
      '$aws/certificates/delete/json',
      '$aws/certificates/create',
      '$aws/provisioning-templates/t/provision/json/accepted',
      '$aws/provisioning-templates/t/provision',
      '$aws/provisioning-templates/t/describe/json',
    ]) {
      assert.equal(parseFleetRequestTopic(t), undefined, t);
      assert.match(fleetPublishProblem(t) ?? '', /not a fleet provisioning request topic/, t);
    }
  });

  it('other topics are not its business', () => {
    assert.equal(fleetPublishProblem('$aws/things/x/shadow/update'), undefined);
    assert.equal(fleetPublishProblem('devices/1'), undefined);
    assert.equal(fleetPublishProblem('$aws/certificates/create/json'), undefined);
  });
});
