import { join } from 'node:path';

/** Where certgate keeps its files under the data directory. */
export interface DataDirLayout {
  readonly dataDir: string;
  readonly database: string;
  readonly masterKey: string;
  readonly keysDir: string;
  readonly caDir: string;
  readonly rootCaRsa: string;
  readonly rootCaEcc: string;
  readonly intermediateRsa: string;
  readonly intermediateEcc: string;
  readonly deviceIssuingCa: string;
  /** certgate's two roots in one PEM file: what a client trusts for the HTTPS API (AWS_CA_BUNDLE, --ca-bundle) and the MQTT listeners. */
  readonly caBundle: string;
  /** AWS shared-credentials file (profile `default`), mode 0600. */
  readonly credentials: string;
  /** AWS config file (`[default]` region). */
  readonly awsConfig: string;
}

export function dataDirLayout(dataDir: string): DataDirLayout {
  const caDir = join(dataDir, 'ca');
  return {
    dataDir,
    database: join(dataDir, 'certgate.db'),
    masterKey: join(dataDir, 'master.key'),
    keysDir: join(dataDir, 'keys'),
    caDir,
    rootCaRsa: join(dataDir, 'root-ca-rsa.pem'),
    rootCaEcc: join(dataDir, 'root-ca-ecc.pem'),
    intermediateRsa: join(caDir, 'intermediate-rsa.pem'),
    intermediateEcc: join(caDir, 'intermediate-ecc.pem'),
    deviceIssuingCa: join(caDir, 'device-issuing-ca.pem'),
    caBundle: join(dataDir, 'ca-bundle.pem'),
    credentials: join(dataDir, 'credentials'),
    awsConfig: join(dataDir, 'config'),
  };
}
