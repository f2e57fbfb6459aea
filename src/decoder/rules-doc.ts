/**
 * Generates docs/rules.md from RULES (constants.ts) and RULE_EXAMPLES (examples.ts).
 * Regenerate with:
 *   npx ts-node --transpile-only -e "process.stdout.write(require('./src/decoder/rules-doc').rulesMarkdown())" > docs/rules.md
 * test/decoder/rules.test.ts fails when the file is out of date.
 */
import { RULES, type RuleId } from './constants';
import { RULE_EXAMPLES, type ExampleInput } from './examples';

/** Hex bytes separated by spaces; long inputs show their first 32 bytes and their size. */
function spacedHex(hex: string): string {
  const bytes = hex.match(/../g) ?? [];
  if (bytes.length <= 48) return bytes.join(' ');
  return `${bytes.slice(0, 32).join(' ')} … (${bytes.length} bytes in all)`;
}

function renderInput(input: ExampleInput): string {
  if (input.kind === 'frames') {
    const ext = input.extensions ? `, with \`${input.extensions}\` negotiated` : '';
    return `frames from the ${input.from}${ext}:\n\n\`\`\`\n${spacedHex(input.hex)}\n\`\`\``;
  }
  // Each head as on the wire, without its final empty line; the two heads apart.
  const show = (text: string) => text.replace(/(\r\n)+$/, '').split('\r\n').join('\n');
  return `request and response:\n\n\`\`\`http\n${show(input.request)}\n\n${show(input.response)}\n\`\`\``;
}

export function rulesMarkdown(): string {
  const ids = Object.keys(RULES) as RuleId[];
  const out: string[] = [];
  out.push('# The rules wsscope checks');
  out.push('');
  out.push('<!-- Generated from src/decoder/constants.ts and src/decoder/examples.ts by src/decoder/rules-doc.ts: edit those, not this file. -->');
  out.push('');
  out.push('Every violation the decoder reports carries one of these stable ids (`rule`), a message and');
  out.push('the RFC section (`section`). Decoding goes on after a violation wherever the stream can');
  out.push('still be followed; after `length-msb-set` that direction is no longer decoded. Each rule');
  out.push('has an example that breaks it and a near miss that must not be flagged; both are replayed');
  out.push('by test/decoder/rules.test.ts. Hex examples decode with');
  out.push('`wsscope decode --from client|server --hex "..."`.');
  out.push('');
  out.push('| rule | section | what is flagged |');
  out.push('|---|---|---|');
  for (const id of ids) out.push(`| [\`${id}\`](#${id}) | ${RULES[id].section} | ${RULES[id].summary} |`);
  out.push('');
  for (const id of ids) {
    const rule = RULES[id];
    const ex = RULE_EXAMPLES[id];
    out.push(`## ${id}`);
    out.push('');
    out.push(`${rule.section}: ${rule.summary}.`);
    out.push('');
    out.push(`> ${rule.sentence}`);
    out.push('');
    // The quote holds the RFC's words only; our note on it comes after, marked as ours.
    if ('note' in rule) {
      out.push(`Our note (not the RFC's words): ${rule.note}`);
      out.push('');
    }
    out.push(`Breaks it, ${renderInput(ex.bad)}`);
    out.push('');
    out.push(`Near miss (not flagged: ${ex.nearNote}), ${renderInput(ex.near)}`);
    out.push('');
  }
  return out.join('\n');
}
