// One polite live region per page: news a screen-reader user should hear once (a new repeat request, an
// action's outcome) without moving their focus.
let region = null;

export function announce(text) {
  if (!region) {
    region = document.createElement('div');
    region.className = 'visually-hidden';
    region.setAttribute('aria-live', 'polite');
    region.setAttribute('role', 'status');
    region.dataset.testid = 'announcer';
    document.body.append(region);
  }
  // Emptied first so the same sentence twice is still read twice.
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}
