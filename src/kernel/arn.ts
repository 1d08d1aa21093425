/** ARNs as AWS IoT writes them: arn:aws:iot:<region>:<account>:<type>/<id>. */

export type IotResourceType = 'cert' | 'cacert' | 'thing' | 'policy' | 'provisioningtemplate' | 'client' | 'topic' | 'topicfilter';

export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

export function iotArn(scope: Scope, type: IotResourceType, id: string): string {
  return `arn:aws:iot:${scope.region}:${scope.accountId}:${type}/${id}`;
}

export interface ParsedArn {
  readonly region: string;
  readonly accountId: string;
  readonly type: string;
  readonly id: string;
}

const ARN_RE = /^arn:aws:iot:([a-z0-9-]+):(\d{12}):([a-z]+)\/(.+)$/;

export function parseIotArn(arn: string): ParsedArn | undefined {
  const m = ARN_RE.exec(arn);
  if (!m) return undefined;
  return { region: m[1]!, accountId: m[2]!, type: m[3]!, id: m[4]! };
}
