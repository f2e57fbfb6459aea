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

describe("a rule's sentence is the RFC's words only; our commentary is its note", () => {
  // Exact text of RFC 6455 §7.4.1, §5.5.1, §4.1 (client step 1) and RFC 7692 §7.2.2.
  const exact: Partial<Record<RuleId, string>> = {
    'invalid-close-code': '1005 is a reserved value and MUST NOT be set as a status code in a Close control frame by an endpoint.',
    'invalid-close-reason-utf8':
      'Following the 2-byte integer, the body MAY contain UTF-8-encoded data with value /reason/, the interpretation of which is not defined by this specification.',
    'bad-status': 'If the status code received from the server is not 101, the client handles the response per HTTP [RFC2616] procedures.',
    'inflate-failed':
      'An endpoint uses the following algorithm to decompress a message. 1. Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message. 2. Decompress the resulting data using DEFLATE.',
  };
  it.each(Object.keys(exact) as RuleId[])('%s: the sentence is exactly the RFC text, the rest is in note', (id) => {
    const rule: { sentence: string; note?: string } = RULES[id];
    expect(rule.sentence).toBe(exact[id]);
    expect(rule.note).toBeDefined();
  });
  it.each(ids)('%s: no note of ours, "(§..." or "(Likewise", inside the quote', (id) => {
    expect(RULES[id].sentence).not.toMatch(/\((§|RFC |Likewise)/);
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
