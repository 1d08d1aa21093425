#!/usr/bin/env python3
"""One fixed control-plane scenario driven through boto3 against any AWS IoT-compatible endpoint.

Prints one JSON line per step: {"step", "ok", "error_code", "summary"}, where summary holds only the
facts that matter and are comparable across servers (statuses, lengths, booleans, error names, wire
types) -- never random identifiers. Used by compare-with-moto.mjs to diff certgate against moto.

usage: boto3_scenario.py --endpoint-url URL --access-key-id AKID --secret-access-key SECRET [--region us-east-1]
Needs python3 + boto3 and the openssl CLI (test certificates are made in a temporary directory).
"""
import argparse
import hashlib
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def sha256_of_der(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


class Pki:
    def __init__(self, workdir):
        self.dir = workdir
        self.n = 0
        with open(os.path.join(workdir, "ca.ext"), "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n")
        with open(os.path.join(workdir, "leaf.ext"), "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")

    def _p(self, name):
        self.n += 1
        return os.path.join(self.dir, "%s-%d.pem" % (name, self.n))

    def _run(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    def key(self, algo="RSA", opt="rsa_keygen_bits:2048"):
        path = self._p("key")
        args = ["genpkey", "-algorithm", algo, "-out", path]
        if opt:
            args += ["-pkeyopt", opt]
        self._run(*args)
        return path

    def csr(self, key, cn):
        path = self._p("csr")
        self._run("req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", path)
        return path

    def read(self, path):
        with open(path) as f:
            return f.read()

    def serial(self):
        return "0x1" + secrets.token_hex(15)

    def ca(self):
        key = self.key()
        csr = self.csr(key, "diff CA " + secrets.token_hex(4))
        cert = self._p("ca")
        self._run("x509", "-req", "-in", csr, "-signkey", key, "-days", "3650", "-sha256", "-set_serial", self.serial(),
                  "-extfile", os.path.join(self.dir, "ca.ext"), "-out", cert)
        return key, cert

    def signed(self, ca_key, ca_cert, cn):
        key = self.key()
        csr = self.csr(key, cn)
        cert = self._p("leaf")
        self._run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial", self.serial(), "-days", "30",
                  "-sha256", "-extfile", os.path.join(self.dir, "leaf.ext"), "-out", cert)
        return cert

    def ed25519_self_signed(self):
        key = self.key("ED25519", None)
        csr = self.csr(key, "ed25519 device")
        cert = self._p("ed")
        self._run("x509", "-req", "-in", csr, "-signkey", key, "-days", "30", "-set_serial", self.serial(), "-out", cert)
        return cert


class Scenario:
    def __init__(self, client):
        self.c = client
        self.last_raw = None
        client.meta.events.register("after-call.iot.*", self._capture)

    def _capture(self, http_response=None, **_kwargs):
        try:
            self.last_raw = json.loads(http_response.content or b"null")
        except Exception:  # noqa: BLE001 - raw capture is best effort
            self.last_raw = None

    def step(self, name, fn):
        """Runs fn() -> summary dict; prints the JSON line; returns (ok, summary)."""
        try:
            summary = fn()
            line = {"step": name, "ok": True, "error_code": None, "summary": summary}
        except ClientError as e:
            err = e.response.get("Error", {})
            line = {"step": name, "ok": False, "error_code": err.get("Code"),
                    "summary": {"http": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")}}
        except Exception as e:  # noqa: BLE001 - a crashing step is a result too
            line = {"step": name, "ok": False, "error_code": "client-side:" + type(e).__name__,
                    "summary": {"detail": str(e)[:200]}}
        print(json.dumps(line, sort_keys=True), flush=True)
        return line


def wire_type(v):
    return {int: "number", float: "number", str: "string", type(None): "absent"}.get(type(v), type(v).__name__)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--access-key-id", required=True)
    ap.add_argument("--secret-access-key", required=True)
    ap.add_argument("--region", default="us-east-1")
    a = ap.parse_args()

    client = boto3.client("iot", endpoint_url=a.endpoint_url, region_name=a.region,
                          aws_access_key_id=a.access_key_id, aws_secret_access_key=a.secret_access_key,
                          config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=30))
    s = Scenario(client)
    c = client
    tag = secrets.token_hex(3)
    state = {}

    with tempfile.TemporaryDirectory(prefix="certgate-diff-") as work:
        pki = Pki(work)

        def create_active():
            r = c.create_keys_and_certificate(setAsActive=True)
            state["active"] = r
            return {"idLen": len(r["certificateId"]), "idIsSha256OfDer": r["certificateId"] == sha256_of_der(r["certificatePem"]),
                    "keyPairMembers": sorted(r["keyPair"].keys())}
        s.step("CreateKeysAndCertificate: certificateId derivation", create_active)

        def describe_active():
            c.describe_certificate(certificateId=state["active"]["certificateId"])
            d = s.last_raw["certificateDescription"]
            return {"status": d.get("status"), "notAfter": d.get("validity", {}).get("notAfter"),
                    "certificateMode": d.get("certificateMode"), "hasPrivateKey": "PRIVATE KEY" in json.dumps(s.last_raw)}
        s.step("DescribeCertificate: status, notAfter (2524607999 = 2049-12-31T23:59:59Z)", describe_active)

        def wire_timestamps():
            c.describe_certificate(certificateId=state["active"]["certificateId"])
            d = s.last_raw["certificateDescription"]
            cd = d.get("creationDate")
            return {"creationDate": wire_type(cd), "hasFraction": isinstance(cd, float),
                    "lastModifiedDate": wire_type(d.get("lastModifiedDate"))}
        s.step("timestamps on the wire", wire_timestamps)

        s.step("DescribeCertificate: unknown id", lambda: c.describe_certificate(certificateId=secrets.token_hex(32)) and {})

        s.step("DeleteCertificate while ACTIVE",
               lambda: c.delete_certificate(certificateId=state["active"]["certificateId"]) and {"deleted": True})

        def revoke_then_activate():
            r = c.create_keys_and_certificate(setAsActive=True)
            c.update_certificate(certificateId=r["certificateId"], newStatus="REVOKED")
            state["revoked"] = r["certificateId"]
            c.update_certificate(certificateId=r["certificateId"], newStatus="ACTIVE")
            return {"statusAfter": c.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]["status"]}
        s.step("UpdateCertificate REVOKED -> ACTIVE", revoke_then_activate)

        def pending_transfer():
            r = c.create_keys_and_certificate(setAsActive=False)
            c.update_certificate(certificateId=r["certificateId"], newStatus="PENDING_TRANSFER")
            return {"statusAfter": c.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]["status"]}
        s.step("UpdateCertificate newStatus PENDING_TRANSFER", pending_transfer)

        def csr(bits_or_curve):
            if bits_or_curve == "P-256":
                key = pki.key("EC", "ec_paramgen_curve:P-256")
            else:
                key = pki.key("RSA", "rsa_keygen_bits:%d" % bits_or_curve)
            pem = pki.read(pki.csr(key, "csr device"))
            r = c.create_certificate_from_csr(certificateSigningRequest=pem)
            return {"idIsSha256OfDer": r["certificateId"] == sha256_of_der(r["certificatePem"])}
        s.step("CreateCertificateFromCsr EC P-256", lambda: csr("P-256"))
        s.step("CreateCertificateFromCsr RSA-1024", lambda: csr(1024))
        s.step("CreateCertificateFromCsr garbage", lambda: c.create_certificate_from_csr(certificateSigningRequest="not a csr") and {})

        def reg_code():
            code = c.get_registration_code()["registrationCode"]
            state["code"] = code
            return {"len": len(code), "hex": bool(re.fullmatch(r"[0-9a-f]{64}", code)),
                    "stable": c.get_registration_code()["registrationCode"] == code}
        s.step("GetRegistrationCode", reg_code)

        def register_ca(code):
            ca_key, ca_cert = pki.ca()
            verification = pki.signed(ca_key, ca_cert, code)
            r = c.register_ca_certificate(caCertificate=pki.read(ca_cert), verificationCertificate=pki.read(verification),
                                          setAsActive=True, allowAutoRegistration=True)
            state["ca"] = (ca_key, ca_cert, r["certificateId"])
            d = c.describe_ca_certificate(certificateId=r["certificateId"])["certificateDescription"]
            return {"idIsSha256OfDer": r["certificateId"] == sha256_of_der(pki.read(ca_cert)), "status": d.get("status"),
                    "autoRegistrationStatus": d.get("autoRegistrationStatus")}
        s.step("RegisterCACertificate wrong registration code", lambda: register_ca(secrets.token_hex(32)))
        s.step("RegisterCACertificate correct verification cert", lambda: register_ca(state.get("code", "")))

        def register_device():
            ca_key, ca_cert, ca_id = state["ca"]
            dev = pki.signed(ca_key, ca_cert, "device " + tag)
            r = c.register_certificate(certificatePem=pki.read(dev), caCertificatePem=pki.read(ca_cert), status="ACTIVE")
            d = c.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]
            state["device_pem"] = pki.read(dev)
            return {"caMatches": d.get("caCertificateId") == ca_id, "status": d.get("status")}
        s.step("RegisterCertificate under the ACTIVE CA", register_device)
        s.step("RegisterCertificate same certificate twice",
               lambda: c.register_certificate(certificatePem=state["device_pem"]) and {})

        def unregistered_ca():
            ca_key, ca_cert = pki.ca()
            dev = pki.signed(ca_key, ca_cert, "orphan")
            c.register_certificate(certificatePem=pki.read(dev), caCertificatePem=pki.read(ca_cert))
            return {}
        s.step("RegisterCertificate from an unregistered CA", unregistered_ca)
        s.step("RegisterCertificateWithoutCA Ed25519",
               lambda: c.register_certificate_without_ca(certificatePem=pki.read(pki.ed25519_self_signed())) and {})

        doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})
        s.step("CreatePolicy document not JSON",
               lambda: c.create_policy(policyName="bad-json-" + tag, policyDocument="{\"Statement\": [") and {})
        s.step("CreatePolicy statement without Effect",
               lambda: c.create_policy(policyName="no-effect-" + tag, policyDocument=json.dumps(
                   {"Version": "2012-10-17", "Statement": [{"Action": "iot:Connect", "Resource": "*"}]})) and {})
        s.step("CreatePolicy unknown action",
               lambda: c.create_policy(policyName="bad-action-" + tag, policyDocument=json.dumps(
                   {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Teleport", "Resource": "*"}]})) and {})

        def versions():
            name = "versions-" + tag
            c.create_policy(policyName=name, policyDocument=doc)
            for _ in range(4):
                c.create_policy_version(policyName=name, policyDocument=doc)
            state["versions_policy"] = name
            c.create_policy_version(policyName=name, policyDocument=doc)
            return {"sixthAccepted": True}
        s.step("CreatePolicyVersion the 6th", versions)
        s.step("DeletePolicyVersion the default",
               lambda: c.delete_policy_version(policyName=state["versions_policy"], policyVersionId="1") and {})

        def policy_limit():
            arn = c.create_keys_and_certificate(setAsActive=True)["certificateArn"]
            for i in range(11):
                name = "limit-%s-%d" % (tag, i)
                c.create_policy(policyName=name, policyDocument=doc)
                c.attach_policy(policyName=name, target=arn)
            return {"eleventhAccepted": True}
        s.step("AttachPolicy the 11th on one certificate", policy_limit)

        def endpoint(kind):
            addr = c.describe_endpoint(endpointType=kind)["endpointAddress"]
            return {"atsForm": bool(re.fullmatch(r"[a-z0-9]+-ats\.iot\.%s\..+" % re.escape(a.region), addr)),
                    "amazonawsDomain": addr.endswith(".amazonaws.com"), "prefixLen": len(addr.split(".")[0].replace("-ats", ""))}
        s.step("DescribeEndpoint iot:Data-ATS", lambda: endpoint("iot:Data-ATS"))
        s.step("DescribeEndpoint iot:Data", lambda: endpoint("iot:Data"))
        s.step("DescribeEndpoint unknown type", lambda: endpoint("iot:Nope"))

        def paging():
            pages, seen, marker, max_len = 0, [], None, 0
            for _ in range(200):
                kw = {"pageSize": 1}
                if marker:
                    kw["marker"] = marker
                r = c.list_certificates(**kw)
                pages += 1
                page = [x["certificateId"] for x in r.get("certificates", [])]
                max_len = max(max_len, len(page))
                seen += page
                marker = r.get("nextMarker")
                if not marker:
                    break
            total = len(c.list_certificates(pageSize=250).get("certificates", []))
            return {"maxPerPage": max_len, "pagesEqualTotal": pages == total,
                    "noDuplicates": len(set(seen)) == len(seen), "allSeen": len(set(seen)) == total}
        s.step("ListCertificates pageSize 1 paging", paging)

        def things_paging():
            for i in range(3):
                c.create_thing(thingName="diff-%s-%d" % (tag, i))
            r = c.list_things(maxResults=1)
            return {"returned": len(r.get("things", [])), "hasNextToken": bool(r.get("nextToken"))}
        s.step("ListThings maxResults 1", things_paging)

        def version_conflict():
            name = "vc-" + tag
            c.create_thing(thingName=name)
            c.update_thing(thingName=name, expectedVersion=1, attributePayload={"attributes": {"a": "1"}})
            c.update_thing(thingName=name, expectedVersion=1, attributePayload={"attributes": {"a": "2"}})
            return {"staleAccepted": True}
        s.step("UpdateThing stale expectedVersion", version_conflict)
        s.step("CreateThing invalid name", lambda: c.create_thing(thingName="bad name!") and {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
