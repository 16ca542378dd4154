// The translator's catalog (web/i18n/<lang>.json: flat keys, {name} placeholders) and the hub's language.
// Every visible string goes through t(); static markup names its key in data-i18n (text),
// data-i18n-label (aria-label), data-i18n-placeholder or data-i18n-title.
const catalog = { lang: 'en', strings: {}, fallback: {} };

export const SUPPORTED = ['en', 'it', 'es'];

async function fetchCatalog(lang) {
  const res = await fetch(`/i18n/${lang}.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`catalog ${lang}: HTTP ${res.status}`);
  return res.json();
}

// English is always loaded too: a key a translator has not reached yet shows in English, never as a key.
// Never throws: a catalog that cannot be read leaves the page in its built-in English rather than blank.
export async function loadLanguage(lang) {
  const wanted = SUPPORTED.includes(lang) ? lang : 'en';
  catalog.fallback = await fetchCatalog('en').catch(() => null);
  if (!catalog.fallback) {
    catalog.fallback = {};
    return 'en';
  }
  const own = wanted === 'en' ? catalog.fallback : await fetchCatalog(wanted).catch(() => null);
  // Without its own catalog the page is in English, and says so to screen readers (lang="en").
  catalog.strings = own ?? catalog.fallback;
  catalog.lang = own ? wanted : 'en';
  document.documentElement.lang = catalog.lang;
  applyCatalog(document);
  return catalog.lang;
}

export function language() {
  return catalog.lang;
}

export function t(key, params = {}) {
  const template = catalog.strings[key] ?? catalog.fallback[key] ?? key;
  if (typeof template !== 'string') return key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

// Has the catalog a string for this key (used for optional keys such as a kind's name)?
export function has(key) {
  return key in catalog.strings || key in catalog.fallback;
}

export function applyCatalog(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) {
    if (el.tagName === 'TITLE') el.textContent = t(el.dataset.i18nTitle);
    else el.title = t(el.dataset.i18nTitle);
  }
}
