import { Command } from 'commander';
import { MASTER_KEY_ENV, resolveServeConfig } from '../../main/config.js';
import type { RawSettings } from '../../main/config.js';
import type { StartedCertgate } from '../../main/start-certgate.js';
import type { CliIo } from '../cli-io.js';
import { settingOption } from '../setting-option.js';

export const READY_PREFIX = 'CERTGATE_READY ';

export function banner(started: StartedCertgate): string {
  const f = started.files;
  const env = `AWS_SHARED_CREDENTIALS_FILE=${f.credentials} AWS_CONFIG_FILE=${f.awsConfig}`;
  const caFlag = started.caBundle !== undefined ? ` --ca-bundle ${started.caBundle}` : '';
  return [
    'certgate — AWS IoT Core compatible gateway',
    `  control plane  ${started.apiUrl}  (region ${started.region})`,
    ...(started.caBundle !== undefined ? [`  API CA bundle  ${started.caBundle}  (AWS_CA_BUNDLE, --ca-bundle; named in the config file)`] : []),
    ...(started.apiInsecure ? ['  WARNING        the control plane is served over plain HTTP beyond loopback (--api-insecure-http)'] : []),
    `  account        ${started.account.accountId} (${started.account.name})`,
    `  data endpoint  ${started.dataEndpoint}`,
    `  MQTT           mqtts://${started.mqttHost}:${started.mqttPort}  (mutual TLS; SNI ${started.dataEndpoint})`,
    ...(started.alpnPort !== undefined ? [`  MQTT (ALPN)    mqtts://${started.mqttHost}:${started.alpnPort}  (ALPN x-amzn-mqtt-ca)`] : []),
    `  credentials    ${f.credentials}`,
    `  config         ${f.awsConfig}`,
    `  root CAs       ${f.rootCaRsa}`,
    `                 ${f.rootCaEcc}`,
    `  try            ${env} aws iot list-certificates --endpoint-url ${started.apiUrl}${caFlag}`,
    `certgate ready: listening on ${started.apiUrl} and mqtts://${started.mqttHost}:${started.mqttPort}`,
    '',
  ].join('\n');
}

export function readyLine(started: StartedCertgate): string {
  const ready = {
    apiUrl: started.apiUrl,
    region: started.region,
    dataDir: started.files.dataDir,
    accountId: started.account.accountId,
    dataEndpoint: started.dataEndpoint,
    mqttPort: started.mqttPort,
    ...(started.alpnPort !== undefined ? { alpnPort: started.alpnPort } : {}),
    ...(started.caBundle !== undefined ? { caBundle: started.caBundle } : {}),
  };
  return READY_PREFIX + JSON.stringify(ready) + '\n';
}

export function serveCommand(io: CliIo): Command {
  return new Command('serve')
    .description('run the gateway: AWS IoT control plane (REST API) and the mutual-TLS MQTT data plane, on an embedded SQLite store')
    .addOption(settingOption('dataDir'))
    .addOption(settingOption('host'))
    .addOption(settingOption('apiHost'))
    .addOption(settingOption('apiPort'))
    .addOption(settingOption('apiTls'))
    .addOption(settingOption('apiTlsCert'))
    .addOption(settingOption('apiTlsKey'))
    .addOption(settingOption('apiInsecureHttp'))
    .addOption(settingOption('tlsSecurityPolicy'))
    .addOption(settingOption('mqttPort'))
    .addOption(settingOption('alpnPort'))
    .addOption(settingOption('requireSni'))
    .addOption(settingOption('extraRegions'))
    .addOption(settingOption('region'))
    .addOption(settingOption('domain'))
    .addOption(settingOption('fleetTokenTtl'))
    .addOption(settingOption('provisioningHookAllow'))
    .addOption(settingOption('fleetRequestRate'))
    .addOption(settingOption('fleetPendingCertificates'))
    .addOption(settingOption('registryCacheTtl'))
    .addOption(settingOption('logLevel'))
    .option('--print-ready-json', 'after the banner, print one line CERTGATE_READY {json} (for scripts and tests)')
    .addHelpText(
      'after',
      `\nEnvironment:\n  ${MASTER_KEY_ENV}  master key for the encrypted CA keys (32 bytes as base64 or hex); when unset, DATA/master.key is used (created on first start)`,
    )
    .action(async (opts: RawSettings & { printReadyJson?: boolean }) => {
      const config = resolveServeConfig(opts, io.env, io.cwd);
      // Loaded on demand: --help and config errors need neither fastify nor the X.509 stack.
      const { startCertgate } = await import('../../main/start-certgate.js');
      const started = await startCertgate(config);
      const stopped = io.waitForStopSignal();
      io.stdout(banner(started));
      if (opts.printReadyJson === true) io.stdout(readyLine(started));
      const signal = await stopped;
      started.logger.info({ signal }, 'stopping');
      await started.close();
    });
}
