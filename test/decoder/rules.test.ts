import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES, type RuleId } from '../../src/decoder/constants';
import { RULE_EXAMPLES } from '../../src/decoder/examples';
import { rulesMarkdown } from '../../src/decoder/rules-doc';
import { runInput, violationsOf } from './helpers';

const ids = Object.keys(RULES) as RuleId[];

describe('every rule has a breaking input and a near miss', () => {
  it.each(ids)('%s: flagged on the breaking input', (id) => {
    const violations = violationsOf(runInput(RULE_EXAMPLES[id].bad));
    const hit = violations.find((v) => v.rule === id);
    expect(hit).toBeDefined();
    expect(hit!.section).toBe(RULES[id].section);
    expect(hit!.message.length).toBeGreaterThan(0);
  });
  it.each(ids)('%s: the near miss is clean', (id) => {
    const events = runInput(RULE_EXAMPLES[id].near);
    expect(violationsOf(events)).toEqual([]);
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
  });
  it('the rule ids of DESIGN.md exist with exactly those names', () => {
    for (const id of [
      'control-frame-too-long', 'unmasked-client-frame', 'masked-server-frame', 'reserved-opcode', 'rsv-without-extension',
      'non-minimal-length', 'length-msb-set', 'fragmented-control-frame', 'unexpected-continuation', 'interleaved-data-frame',
      'invalid-utf8', 'invalid-close-code', 'close-payload-length-1', 'data-after-close', 'bad-accept',
    ]) {
      expect(ids).toContain(id);
    }
  });
});

describe('docs/rules.md', () => {
  const doc = readFileSync(join(__dirname, '../../docs/rules.md'), 'utf8');
  it('is up to date with constants.ts and examples.ts (regenerate: see src/decoder/rules-doc.ts)', () => {
    expect(doc).toBe(rulesMarkdown());
  });
  it.each(ids)('documents %s with its section and sentence', (id) => {
    expect(doc).toContain(`## ${id}\n`);
    expect(doc).toContain(RULES[id].sentence);
  });
});
