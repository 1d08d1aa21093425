/**
 * broker/listeners: the device-facing TLS listeners (8883, and 443 with ALPN x-amzn-mqtt-ca) — the only
 * node:tls in certgate — and the table of TLS security policies every TLS listener applies (main hands the
 * chosen policy to the HTTPS API too). They turn a handshaken socket into a ConnectionPeer and hand both to the
 * broker; they import no other adapter.
 */
export { AWS_MQTT_ALPN, createMqttTlsListener } from './mqtt-tls-listener.js';
export type { MqttTlsListener, MqttTlsListenerOptions, ServerCredential } from './mqtt-tls-listener.js';
export { connectionPeerOf } from './connection-peer.js';
export {
  DEFAULT_TLS_SECURITY_POLICY,
  TLS_SECURITY_POLICIES,
  TLS_SECURITY_POLICY_NAMES,
  isTlsSecurityPolicyName,
  tlsPolicyOptions,
} from './tls-security-policies.js';
export type { TlsPolicyOptions, TlsSecurityPolicy, TlsSecurityPolicyName } from './tls-security-policies.js';
