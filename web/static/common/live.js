// The live feed (server-sent events). EventSource reconnects by itself after a hub or network restart;
// this adds what the page needs around that: a connection state to show, and a resync after every
// (re)connection, since events sent while the page was away are not replayed.
export function connectLive(url, { onEvent, onResync, onState, events = ['message'] }) {
  let source = null;
  let retryTimer = null;
  let closed = false;

  const open = () => {
    if (closed) return;
    source = new EventSource(url, { withCredentials: true });
    source.addEventListener('open', () => {
      onState?.('live');
      onResync?.();
    });
    source.addEventListener('error', () => {
      onState?.('reconnecting');
      // A CLOSED source (the server answered with an error, e.g. 503 while carehubd restarts) is not
      // retried by the browser: start a new one after a pause.
      if (source.readyState === EventSource.CLOSED && !retryTimer) {
        retryTimer = setTimeout(() => {
          retryTimer = null;
          open();
        }, 3000);
      }
    });
    for (const type of events) {
      source.addEventListener(type, (e) => {
        let data = null;
        try {
          data = JSON.parse(e.data);
        } catch {
          return;
        }
        onEvent(type, data);
      });
    }
  };

  open();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      source?.close();
    },
  };
}
