/**
 * The RFC section and sentence behind each rule id, for the Violations view. The table
 * itself is the decoder's (src/decoder/constants.ts, RULES): one source for the decoder,
 * the views and docs/rules.md.
 */
import { RULES, type RuleInfo } from '../decoder/constants';

export function ruleInfo(rule: string): RuleInfo | undefined {
  return Object.prototype.hasOwnProperty.call(RULES, rule) ? (RULES as Record<string, RuleInfo>)[rule] : undefined;
}
