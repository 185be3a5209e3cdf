// The console's only script (its CSP allows no other): live updates for lists that ask for them.
// A list marked data-live="/events/…" listens to that event stream; on "changed" it fetches its
// data-fragment again and shows it; on "signed-out" it says so. Everything else is plain HTML forms.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  for (const list of document.querySelectorAll('[data-live]')) {
    const events = new EventSource(list.dataset.live);
    events.addEventListener('changed', async () => {
      const response = await fetch(list.dataset.fragment, { credentials: 'same-origin' });
      if (!response.ok) return;
      list.innerHTML = await response.text();
      list.dataset.refreshed = String(Number(list.dataset.refreshed || '0') + 1);
    });
    events.addEventListener('signed-out', () => {
      events.close();
      const note = document.createElement('p');
      note.className = 'flash error';
      note.setAttribute('role', 'alert');
      note.textContent = 'Your session has ended: sign in again to see live updates.';
      list.before(note);
    });
  }
});
