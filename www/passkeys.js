// The Passkeys section: the account's passkeys (name, when added and last used, "synced" when a
// password manager backs it up), adding one (strong proof, then this device makes it), renaming
// one, removing one (any proof). Also what the re-auth dialog and the sign-in form need to know:
// whether a passkey can be offered here, and why not.
//
// A passkey needs a secure context and a domain as its relying party id: at an IP address like
// http://127.0.0.1:8787 the controls are shown disabled with a link to the same page on
// localhost; in a browser without WebAuthn they are hidden.
import { errorText } from './api.js';
import { describeDevice } from './device.js';
import { $, announce, el, setInvalid, showError, timeEl } from './dom.js';
import { PasskeyError, createPasskey } from './webauthn.js';

/** The longest name the API keeps for a passkey, in characters. */
export const NAME_MAX = 64;

/** A passkey name as the API takes it (1–64 characters, trimmed); null when it cannot be one. */
export function passkeyName(raw) {
  const name = String(raw ?? '').trim();
  return name.length >= 1 && [...name].length <= NAME_MAX ? name : null;
}

/** Why this page cannot use passkeys (passkeySupport's `state`), or '' when it can. */
export function unavailableText(support) {
  switch (support.state) {
    case 'ok': return '';
    case 'unsupported': return 'This browser cannot use passkeys.';
    case 'ip_host': return support.localUrl
      ? 'Passkeys do not work at an IP address like this one. Open this page at localhost to use them (you sign in there again).'
      : 'Passkeys do not work at an IP address like this one: open the page at its domain name.';
    default: return 'Passkeys need a secure (https) connection.';
  }
}

/** Fills `node` with why passkeys cannot be used here and, when there is one, a link to where they can. */
export function renderUnavailable(node, support) {
  const text = unavailableText(support);
  node.replaceChildren(text);
  if (support.localUrl) {
    const a = el('a', '', support.localUrl);
    a.href = support.localUrl;
    node.append(' ', a);
  }
  node.hidden = !text;
}

/**
 * `api`, `session`, `reauth` (reauth.js), `support` (webauthn.js passkeySupport()); `onChanged()`
 * runs after a passkey was added or removed (e.g. to reload the activity).
 */
export function createPasskeys({ api, session, reauth, support, onChanged = () => {} }) {
  /** The account's passkeys as GET /v1/passkeys listed them; null until loaded. */
  let list = null;

  function item(pk) {
    const li = el('li', 'passkey');
    li.dataset.passkey = pk.id;
    const name = el('p', 'passkey-name', pk.name);
    if (pk.backed_up) name.append(' ', el('span', 'badge', 'Synced'));
    const when = el('p', 'device-meta');
    when.append('Added ', timeEl(pk.created_at), ' · ');
    if (pk.last_used_at == null) when.append('never used');
    else when.append('last used ', timeEl(pk.last_used_at));
    const actions = el('div', 'actions');
    const rename = el('button', '', 'Rename');
    rename.type = 'button';
    rename.setAttribute('aria-label', `Rename ${pk.name}`);
    rename.addEventListener('click', () => startRename(pk, li));
    const remove = el('button', '', 'Remove');
    remove.type = 'button';
    remove.setAttribute('aria-label', `Remove ${pk.name}`);
    remove.addEventListener('click', () => removePasskey(pk, remove));
    actions.append(rename, remove);
    li.append(name, when, actions);
    return li;
  }

  function render() {
    $('passkeys-section').hidden = support.state === 'unsupported';
    renderUnavailable($('passkeys-unavailable'), support);
    $('passkey-add').disabled = support.state !== 'ok';
    $('passkeys-list').replaceChildren(...(list ?? []).map(item));
    $('passkeys-empty').hidden = list === null || list.length > 0;
  }

  /** GET /v1/passkeys. */
  async function load() {
    if (!session.token) return;
    try {
      const answer = await api('GET', '/v1/passkeys');
      if (!session.token) return;
      list = Array.isArray(answer?.passkeys) ? answer.passkeys : [];
      showError($('passkeys-error'), '');
    } catch (err) {
      if (err.handled) return;
      showError($('passkeys-error'), `Your passkeys could not be loaded. ${errorText(err)}`);
    }
    render();
  }

  /** The name field in place of the passkey's name, saved with PATCH /v1/passkeys/{id}. */
  function startRename(pk, li) {
    const form = el('form', 'rename');
    form.noValidate = true;
    const id = `passkey-rename-${li.parentElement ? [...li.parentElement.children].indexOf(li) : 0}`;
    const label = el('label', '', `New name for ${pk.name}`);
    label.htmlFor = id;
    const input = el('input');
    input.id = id;
    input.maxLength = NAME_MAX;
    input.value = pk.name;
    input.autocomplete = 'off';
    const error = el('p', 'error');
    error.setAttribute('role', 'alert');
    const actions = el('div', 'actions');
    const save = el('button', 'primary', 'Save');
    save.type = 'submit';
    const cancel = el('button', '', 'Cancel');
    cancel.type = 'button';
    actions.append(save, cancel);
    form.append(label, input, error, actions);
    li.replaceChildren(form);
    input.focus();
    input.select();
    cancel.addEventListener('click', () => { render(); focusItem(pk.id, 'Rename'); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const name = passkeyName(input.value);
      if (!name) {
        showError(error, `Give the passkey a name of 1 to ${NAME_MAX} characters.`);
        setInvalid(input, true);
        input.focus();
        return;
      }
      save.disabled = true;
      try {
        const answer = await api('PATCH', `/v1/passkeys/${encodeURIComponent(pk.id)}`, { body: { name } });
        list = (list ?? []).map((p) => (p.id === pk.id ? { ...p, ...(answer?.passkey ?? { name }) } : p));
        render();
        announce(`The passkey is now called ${name}.`);
        focusItem(pk.id, 'Rename');
      } catch (err) {
        if (err.handled) return;
        save.disabled = false;
        if (err.code === 'unknown_passkey') {
          showError($('passkeys-error'), 'That passkey is no longer on your account (perhaps removed from another device).');
          load();
          return;
        }
        showError(error, `The name was not changed. ${errorText(err)}`);
        setInvalid(input, true);
        input.focus();
      }
    });
  }

  /** Moves focus to a button of the passkey `id` (its list item is rebuilt on every render). */
  function focusItem(id, label) {
    const li = [...$('passkeys-list').children].find((n) => n.dataset.passkey === id);
    const button = li && [...li.querySelectorAll('button')].find((b) => b.textContent === label);
    (button ?? $('passkey-add')).focus();
  }

  /** Errors of the passkey routes themselves, for the re-auth dialog; undefined for the others. */
  function explain(err, nothing) {
    if (err instanceof PasskeyError) return `${err.message} ${nothing}`;
    switch (err.code) {
      case 'passkey_name': return `Give the passkey a name of 1 to ${NAME_MAX} characters. ${nothing}`;
      case 'passkey_exists': return `That passkey is already on your account. ${nothing}`;
      case 'invalid_passkey': return `The passkey this device made was not accepted (${err.message}). ${nothing}`;
      case 'invalid_challenge': return `Making the passkey took too long: try again. ${nothing}`;
      case 'unknown_passkey': load(); return 'That passkey was already removed from your account.';
      default: return undefined;
    }
  }

  /** Strong proof with a name for it, then registration options, this device's prompt, POST /v1/passkeys. */
  async function add() {
    showError($('passkeys-error'), '');
    $('passkey-name').defaultValue = describeDevice().name.slice(0, NAME_MAX);
    const nothing = 'No passkey was added.';
    const added = await reauth.ask({
      action: 'passkey-add',
      title: 'Add a passkey',
      strength: 'strong',
      confirm: 'Continue',
      nothingChanged: nothing,
      explain: (err) => explain(err, nothing),
      opener: $('passkey-add'),
      send: async (proof) => {
        const name = passkeyName($('passkey-name').value);
        if (!name) throw Object.assign(new Error('no name'), { code: 'passkey_name' });
        const { publicKey } = await api('POST', '/v1/passkeys/registration-options', { body: proof });
        const credential = await createPasskey(publicKey);
        const answer = await api('POST', '/v1/passkeys', { body: { name, credential } });
        return answer?.passkey ?? { name };
      },
    });
    if (!added || !session.token) return;
    announce(`Passkey "${added.name}" added. You can sign in with it instead of your password.`);
    await Promise.all([load(), onChanged()]);
  }

  /** Any proof, then DELETE /v1/passkeys/{id}. */
  async function removePasskey(pk, button) {
    showError($('passkeys-error'), '');
    const nothing = 'The passkey was not removed.';
    const done = await reauth.ask({
      action: 'passkey-remove',
      title: `Remove the passkey "${pk.name}"?`,
      strength: 'any',
      confirm: 'Remove passkey',
      danger: true,
      nothingChanged: nothing,
      explain: (err) => explain(err, nothing),
      opener: button,
      send: async (proof) => { await api('DELETE', `/v1/passkeys/${encodeURIComponent(pk.id)}`, { body: proof }); return true; },
    });
    if (!done || !session.token) return;
    announce(`Passkey "${pk.name}" removed. It no longer signs you in.`);
    await Promise.all([load(), onChanged()]);
    $('passkey-add').focus();
  }

  return {
    load,
    render,
    /** Whether the re-auth dialog can offer a passkey: usable here, and the account has one. */
    offered: () => support.state === 'ok' && (list?.length ?? 0) > 0,
    /** Why the dialog cannot offer one, for a step-up that needs a passkey. */
    unavailableText: () => unavailableText(support)
      || 'You have no passkey yet: add one under Passkeys, then try again.',
    /** Forgets the list (the session ended). */
    clear() { list = null; render(); },
    wire() {
      $('passkey-add').addEventListener('click', add);
      render();
    },
  };
}
