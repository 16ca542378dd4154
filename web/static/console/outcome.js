// A server's refusal as a technician reads it: the OperationOutcome's issues one per line (severity, code,
// text), with the whole answer as it came underneath, folded.
import { h } from '/common/dom.js';

function parse(reason) {
  const start = reason.indexOf('{');
  if (start < 0) return null;
  try {
    const doc = JSON.parse(reason.slice(start));
    return doc?.resourceType === 'OperationOutcome' ? { prefix: reason.slice(0, start).trim(), doc } : null;
  } catch {
    return null;
  }
}

export function outcomeNode(reason, testid) {
  const text = String(reason ?? '');
  const parsed = parse(text);
  if (!parsed) return h('div', { class: 'reason', testid }, text || '-');
  const issues = (parsed.doc.issue ?? []).map((i) =>
    h('li', {}, `${i.severity ?? ''} ${i.code ?? ''}: ${i.details?.text ?? i.diagnostics ?? ''}`.trim()));
  return h('div', { class: 'reason', testid },
    parsed.prefix ? h('p', {}, parsed.prefix) : null,
    h('ul', {}, issues),
    h('details', {}, h('summary', {}, 'OperationOutcome'), h('pre', {}, JSON.stringify(parsed.doc, null, 2))));
}
