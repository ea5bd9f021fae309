// Dunning banner for My Account, without a framework. Include it on your account page:
//
//   <div data-dunning-banner data-endpoint="/account/dunning-notice"></div>
//   <script src="/banner.js" defer></script>
//
// It asks YOUR backend (data-endpoint, same origin, with the user's cookies), never the notice API
// directly: the notice API needs AWS credentials (SigV4) that must stay on your server. Your backend
// looks up the signed-in user's Stripe customer id and forwards GET {noticeApi}customers/{id}/notice,
// passing on its 200 JSON or its 204.
//
// The banner is built with textContent, never innerHTML, so no text in it can run as markup, and the
// button only ever links to an http(s) URL. The container's data-state says what happened:
// loading, shown, empty (204: nothing to show) or error (the banner stays hidden).
(function () {
  'use strict';

  /** Fetches the current notice and renders it into `container`. Resolves with the notice or null. */
  async function renderDunningBanner(container, options) {
    const endpoint = (options && options.endpoint) || container.getAttribute('data-endpoint');
    container.setAttribute('data-state', 'loading');
    try {
      const response = await fetch(endpoint, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (response.status === 204) return show(container, null);
      if (!response.ok) throw new Error('notice endpoint answered ' + response.status);
      return show(container, await response.json());
    } catch (error) {
      container.replaceChildren();
      container.hidden = true;
      container.setAttribute('data-state', 'error');
      if (window.console) console.warn('dunning banner:', error);
      return null;
    }
  }

  function show(container, notice) {
    container.replaceChildren();
    if (!notice) {
      container.hidden = true;
      container.setAttribute('data-state', 'empty');
      return null;
    }
    const severity = ['info', 'warning', 'critical'].indexOf(notice.severity) >= 0 ? notice.severity : 'warning';
    const banner = document.createElement('div');
    banner.className = 'dunning-banner dunning-banner--' + severity;
    // Critical interrupts a screen reader; the others are announced politely.
    banner.setAttribute('role', severity === 'critical' ? 'alert' : 'status');

    const headline = document.createElement('strong');
    headline.className = 'dunning-banner__headline';
    headline.textContent = String(notice.headline || '');
    const body = document.createElement('p');
    body.className = 'dunning-banner__body';
    body.textContent = String(notice.body || '');
    banner.append(headline, body);

    const url = safeUrl(notice.action && notice.action.url);
    if (url) {
      const action = document.createElement('a');
      action.className = 'dunning-banner__action';
      action.href = url;
      action.textContent = String(notice.action.label || 'Update payment details');
      banner.append(action);
    }
    container.append(banner);
    container.hidden = false;
    container.setAttribute('data-state', 'shown');
    return notice;
  }

  function safeUrl(value) {
    try {
      const url = new URL(String(value), window.location.href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  window.renderDunningBanner = renderDunningBanner;
  function start() {
    document.querySelectorAll('[data-dunning-banner]').forEach(function (el) {
      renderDunningBanner(el);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
