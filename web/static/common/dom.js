// Builds DOM nodes without innerHTML: every text from the hub (a clinician's alert text, a device name,
// a server's OperationOutcome) lands as a text node, so nothing it contains can run as markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'testid') el.dataset.testid = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces an element's children in one step (screen readers announce the new content once).
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);
