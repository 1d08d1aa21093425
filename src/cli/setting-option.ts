import { Option } from 'commander';
import { SETTINGS } from '../main/config.js';
import type { SettingName } from '../main/config.js';

/** A commander option for a setting of main/config.ts; help shows its default and its env twin. No commander default:
 * main/config.ts applies flag > env > default itself. */
export function settingOption(name: SettingName): Option {
  const s = SETTINGS[name];
  return new Option(s.flag, `${s.description} (default: ${s.default === '' ? 'none' : s.default}; env: ${s.env})`);
}
