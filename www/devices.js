// The device list: every session of the account, active ones first with this device on top, and
// Sign out per device (another device, or this one).
import { errorText } from './api.js';
import { $, announce, el, showError, timeEl } from './dom.js';

const TYPE_LABEL = { desktop: 'Computer', laptop: 'Laptop', phone: 'Phone', tablet: 'Tablet', tv: 'TV' };

function icon(type) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'device-icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(ns, 'use');
  // Only known ids: the type is user input.
  use.setAttribute('href', `#icon-${Object.hasOwn(TYPE_LABEL, type) ? type : 'other'}`);
  svg.append(use);
  return svg;
}

/**
 * `api`: the client of api.js; `session`: the Session; `check()`: the local check of the own
 * token, false when the session is over; `refresh()`: reloads the device list and the activity.
 */
export function createDevices({ api, session, check, refresh }) {
  let sessions = [];

  function deviceItem(s) {
    const li = el('li', `device${s.current ? ' current' : ''}`);
    li.dataset.session = s.id;
    li.append(icon(s.type));
    const body = el('div', 'device-body');
    const name = el('p', 'device-name', s.name);
    if (s.current) name.append(' ', el('span', 'badge', 'This device'));
    body.append(name);
    const where = [TYPE_LABEL[s.type] ?? s.type, s.location || 'Unknown location', s.ip ? `IP ${s.ip}` : null].filter(Boolean);
    body.append(el('p', 'device-meta', where.join(' · ')));
    const when = el('p', 'device-meta');
    if (s.status === 'active') {
      when.append(s.current ? 'Active now · signed in ' : 'Last active ', timeEl(s.current ? s.created_at : s.last_seen_at));
    } else {
      when.append('Signed out · last active ', timeEl(s.last_seen_at));
    }
    body.append(when);
    if (s.user_agent) body.append(el('p', 'device-ua', s.user_agent));
    li.append(body);
    if (s.status === 'active') {
      const actions = el('div', 'actions');
      const b = el('button', '', 'Sign out');
      b.type = 'button';
      b.setAttribute('aria-label', s.current ? `Sign out of this device (${s.name})` : `Sign out ${s.name}`);
      b.addEventListener('click', () => (s.current ? signOutHere() : signOutDevice(s, b)));
      actions.append(b);
      li.append(actions);
    }
    return li;
  }

  function render() {
    const active = sessions.filter((s) => s.status === 'active');
    const inactive = sessions.filter((s) => s.status !== 'active');
    active.sort((a, b) => Number(b.current) - Number(a.current));
    $('active-devices').replaceChildren(...active.map(deviceItem));
    $('inactive-devices').replaceChildren(...inactive.map(deviceItem));
    $('active-count').textContent = `(${active.length})`;
    $('inactive-count').textContent = `(${inactive.length})`;
    $('inactive-empty').hidden = inactive.length > 0;
  }

  async function load() {
    if (!check()) return;
    try {
      const answer = await api('GET', '/v1/sessions');
      if (!session.token) return;
      sessions = answer.sessions;
      showError($('devices-error'), '');
      render();
    } catch (err) {
      if (!err.handled) showError($('devices-error'), `The device list could not be loaded. ${errorText(err)}`);
    }
  }

  async function signOutDevice(s, button) {
    button.disabled = true;
    try {
      await api('DELETE', `/v1/sessions/${encodeURIComponent(s.id)}`);
      announce(`${s.name} was signed out. It must sign in again to use your account.`);
      await refresh();
      $('devices-title').focus();
    } catch (err) {
      if (!err.handled) showError($('devices-error'), `${s.name} was not signed out. ${errorText(err)}`);
      button.disabled = false;
    }
  }

  async function signOutHere() {
    const me = session.me;
    const end = session.begin('self');
    try {
      await api('DELETE', `/v1/sessions/${encodeURIComponent(me.session)}`);
      session.leave({ kind: 'self' });
    } catch (err) {
      if (!err.handled) showError($('devices-error'), `This device was not signed out. ${errorText(err)}`);
    } finally {
      end();
    }
  }

  return {
    load,
    /** Session id → device name, from the last list loaded. */
    names: () => new Map(sessions.map((s) => [s.id, s.name])),
    wire() {
      $('sign-out-here').addEventListener('click', signOutHere);
    },
  };
}
