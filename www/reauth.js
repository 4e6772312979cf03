// The one "confirm it is you" dialog every sensitive action goes through: the password, a code
// emailed on request, a code from the authenticator app or a recovery code, as the action's
// strength and the account's two-factor state require (proof.js) — or a passkey, which is a whole
// proof on its own, when the account has one and this page can use it. A step-up may ask for a
// passkey only. The action's own request runs while the dialog is open, so a wrong code, a 429, a
// cancelled passkey or a lost connection is shown where the proof was given and can be corrected
// there.
import { errorText } from './api.js';
import { $, el, setInvalid, showError } from './dom.js';
import { buildProof, proofGroups, requirementText } from './proof.js';
import { retryText } from './time.js';
import { PasskeyError, getPasskey } from './webauthn.js';

/** How each method's field reads, and the button that switches to it. */
const FIELD = {
  password: {
    label: 'Your password', type: 'password', autocomplete: 'current-password',
    switchTo: 'Use your password instead',
  },
  email_code: {
    label: 'Code from the email', numeric: true, autocomplete: 'one-time-code',
    switchTo: 'Email me a code instead',
  },
  totp: {
    label: 'Two-factor code', numeric: true, autocomplete: 'one-time-code',
    hint: 'The 6-digit code from your authenticator app.', switchTo: 'Use a code from your authenticator app instead',
  },
  recovery_code: {
    label: 'Recovery code', autocomplete: 'off',
    hint: 'One of the recovery codes you saved, like abcde-fgh23. Each works once.', switchTo: 'Use a recovery code instead',
  },
};

const GROUP_LEGEND = ['Step 1 of 2: your password or an emailed code', 'Step 2 of 2: your authenticator app or a recovery code'];

const PASSKEY_HINT = 'Your device asks for your fingerprint, face, PIN or screen lock; nothing else is needed.';

/**
 * `api`, `session` (its `totp` says whether two-factor authentication is on); `onStale()` reloads
 * the account; `passkeys`: `offered()` whether the account has a passkey this page can use,
 * `unavailableText()` why not, `changed()` after the server said the account has none.
 */
export function createReauth({
  api, session, onStale = async () => {},
  passkeys = { offered: () => false, unavailableText: () => '', changed: () => {} },
}) {
  /** The open request: {options, groups, chosen, fields, resolve, abort}. */
  let current = null;
  let emailSent = false;

  function fieldFor(method) {
    const spec = FIELD[method];
    const id = `reauth-${method.replace('_', '-')}`;
    const wrap = el('div', 'field');
    wrap.dataset.method = method;
    const label = el('label', '', spec.label);
    label.htmlFor = id;
    const input = el('input');
    input.id = id;
    input.name = method;
    input.type = spec.type ?? 'text';
    input.autocomplete = spec.autocomplete;
    if (spec.numeric) { input.inputMode = 'numeric'; input.maxLength = 7; }
    if (method === 'recovery_code') { input.spellcheck = false; input.autocapitalize = 'off'; input.maxLength = 16; }
    wrap.append(label, input);
    const hint = el('p', 'hint', spec.hint ?? '');
    hint.id = `${id}-hint`;
    if (method === 'email_code') hint.setAttribute('aria-live', 'polite');
    input.setAttribute('aria-describedby', hint.id);
    wrap.append(hint);
    if (method === 'email_code') {
      const again = el('button', 'link', 'Send another code');
      again.type = 'button';
      again.id = 'reauth-email-again';
      again.addEventListener('click', () => sendEmailCode());
      wrap.append(again);
    }
    return { wrap, input, hint };
  }

  /** Shows the chosen method of group `i` and buttons for its other methods. */
  function renderGroup(i) {
    const { groups, chosen, fields, boxes } = current;
    const box = boxes[i];
    for (const m of groups[i]) fields[m].wrap.hidden = m !== chosen[i];
    const switches = box.querySelector('.switches');
    switches.replaceChildren(...groups[i].filter((m) => m !== chosen[i]).map((m) => {
      const b = el('button', 'link', FIELD[m].switchTo);
      b.type = 'button';
      b.addEventListener('click', () => choose(i, m));
      const p = el('p');
      p.append(b);
      return p;
    }));
  }

  function choose(i, method) {
    current.chosen[i] = method;
    renderGroup(i);
    showError($('reauth-error'), '');
    current.fields[method].input.focus();
    if (method === 'email_code' && !emailSent) sendEmailCode();
  }

  /** POST /v1/reauth/email-code; says where it went, or why not. */
  async function sendEmailCode() {
    const field = current?.fields.email_code;
    if (!field) return;
    const again = $('reauth-email-again');
    again.disabled = true;
    field.hint.textContent = 'Sending a code…';
    try {
      const res = await api('POST', '/v1/reauth/email-code', { body: {} });
      emailSent = true;
      const minutes = Math.round((res?.expires_in ?? 600) / 60);
      field.hint.textContent = `We sent a 6-digit code to ${res?.sent_to ?? 'your email address'}. It works once, for ${minutes} minutes.`;
    } catch (err) {
      if (err.handled) return;
      field.hint.textContent = '';
      showError($('reauth-error'), err.code === 'rate_limited'
        ? `No code was sent: codes were asked for too often. ${retryText(err.retryAfter)}`
        : `No code was sent. ${errorText(err)}`);
    } finally {
      again.disabled = false;
    }
  }

  /** Builds the groups for the current two-factor state; keeps what was typed when rebuilding. */
  function build() {
    const { options } = current;
    const offered = passkeys.offered();
    const why = options.why ? `${options.why} ` : '';
    $('reauth-passkey').hidden = !offered;
    $('reauth-passkey-or').hidden = Boolean(options.passkeyOnly);
    $('reauth-passkey-button').className = options.passkeyOnly ? 'primary' : '';
    $('reauth-passkey-hint').textContent = PASSKEY_HINT;
    $('reauth-confirm').hidden = Boolean(options.passkeyOnly);
    if (options.passkeyOnly) {
      Object.assign(current, { groups: [], chosen: [], fields: {}, boxes: [] });
      $('reauth-groups').replaceChildren();
      $('reauth-need').textContent = offered ? `${why}Use your passkey to continue.` : `${why}${passkeys.unavailableText()}`;
      return;
    }
    const totpOn = Boolean(session.totp);
    const groups = proofGroups(options.strength, totpOn);
    const typed = Object.fromEntries(Object.entries(current.fields ?? {}).map(([m, f]) => [m, f.input.value]));
    current.groups = groups;
    current.chosen = groups.map((g, i) => (g.includes(current.chosen?.[i]) ? current.chosen[i] : g[0]));
    current.fields = {};
    current.boxes = groups.map((g, i) => {
      const box = el(groups.length > 1 ? 'fieldset' : 'div', 'reauth-group');
      if (groups.length > 1) box.append(el('legend', '', GROUP_LEGEND[i]));
      for (const m of g) {
        const f = fieldFor(m);
        f.input.value = typed[m] ?? '';
        current.fields[m] = f;
        box.append(f.wrap);
      }
      box.append(el('div', 'switches'));
      return box;
    });
    $('reauth-groups').replaceChildren(...current.boxes);
    $('reauth-need').textContent = `${why}${requirementText(options.strength, totpOn)}`;
    groups.forEach((_, i) => renderGroup(i));
  }

  /** Focus where the proof is given: the first field, else the passkey button. */
  function focusFirst() {
    const first = current.fields[current.chosen[0]];
    if (first) first.input.focus();
    else if (!$('reauth-passkey').hidden) $('reauth-passkey-button').focus();
    else $('reauth-cancel').focus();
  }

  function setBusy(busy) {
    $('reauth-confirm').disabled = busy;
    $('reauth-passkey-button').disabled = busy;
  }

  /**
   * Opens the dialog for one action and resolves with what `send(proof)` resolved to once it
   * succeeded (the dialog then closes), or null when cancelled. Options:
   * `action` (shows the dialog's `[data-action]` blocks of that name: consequences, extra
   * choices), `title`, `strength` ('any' | 'strong'), `confirm` (button text), `danger`,
   * `nothingChanged` (said after every failure), `network` (after a lost connection),
   * `passwordField`, `explain(err)` (a sentence for errors of the action itself, or undefined),
   * `opener` (gets focus back), `why` (a sentence put before what is needed), `passkeyOnly`
   * (only a passkey can do: a step-up asking for one), and `send(proof)`: the request, with the
   * proof's fields.
   */
  function ask(options) {
    close();
    emailSent = false;
    return new Promise((resolve) => {
      current = { options, resolve, fields: null, chosen: null, abort: null };
      $('reauth-form').reset();
      $('reauth-title').textContent = options.title;
      for (const block of document.querySelectorAll('#reauth-dialog [data-action]')) block.hidden = block.dataset.action !== options.action;
      const confirm = $('reauth-confirm');
      confirm.textContent = options.confirm ?? 'Continue';
      confirm.className = options.danger ? 'danger' : 'primary';
      setBusy(false);
      showError($('reauth-error'), '');
      build();
      $('reauth-dialog').showModal();
      focusFirst();
    });
  }

  function markInvalid(methods, invalid) {
    for (const m of Object.keys(current.fields)) setInvalid(current.fields[m].input, invalid && methods.includes(m));
  }

  async function submit(event) {
    event.preventDefault();
    if (!current || $('reauth-confirm').disabled) return;
    const request = current;
    const { options, groups, chosen, fields } = request;
    if (groups.length === 0) {
      if (!$('reauth-passkey').hidden) usePasskey();
      return;
    }
    const values = Object.fromEntries(Object.entries(fields).map(([m, f]) => [m, f.input.value]));
    const proof = buildProof(groups, chosen, values, { passwordField: options.passwordField });
    if (proof.missing) {
      showError($('reauth-error'), proof.text);
      markInvalid([proof.missing], true);
      fields[proof.missing].input.focus();
      return;
    }
    markInvalid([], false);
    showError($('reauth-error'), '');
    await run(request, proof.body, false);
  }

  /**
   * "Use a passkey": POST /v1/reauth/passkey-options, the browser's passkey prompt, then the
   * action with the assertion as its proof (`passkey`).
   */
  async function usePasskey() {
    if (!current) return;
    const request = current;
    const nothing = request.options.nothingChanged ?? 'Nothing was changed.';
    markInvalid([], false);
    showError($('reauth-error'), '');
    setBusy(true);
    const hint = $('reauth-passkey-hint');
    hint.textContent = 'Waiting for your passkey…';
    request.abort = new AbortController();
    let credential;
    try {
      const { publicKey } = await api('POST', '/v1/reauth/passkey-options', { body: {} });
      credential = await getPasskey(publicKey, { signal: request.abort.signal });
    } catch (err) {
      if (current !== request) return;
      hint.textContent = PASSKEY_HINT;
      setBusy(false);
      if (err.handled) { close(); return; }
      let text;
      if (err instanceof PasskeyError) text = `${err.message} ${nothing}`;
      else if (err.code === 'no_passkeys') {
        text = `Your account has no passkey any more (perhaps one was removed from another device). ${nothing}`;
        passkeys.changed();
      } else text = `The passkey could not be asked for. ${errorText(err, { rateLimited: `${nothing} ` })}`;
      showError($('reauth-error'), text);
      $('reauth-passkey-button').focus();
      return;
    }
    hint.textContent = PASSKEY_HINT;
    await run(request, { passkey: credential }, true);
  }

  /** Sends the action with `proof`; closes the dialog on success, says why not otherwise. */
  async function run(request, proof, viaPasskey) {
    setBusy(true);
    let result;
    try {
      result = await request.options.send(proof);
    } catch (err) {
      if (current !== request) return;
      setBusy(false);
      if (err.handled) { close(); return; }
      fail(err, viaPasskey);
      return;
    }
    if (current !== request) return;
    current = null;
    // Nothing typed here outlives the dialog.
    $('reauth-form').reset();
    $('reauth-groups').replaceChildren();
    $('reauth-dialog').close();
    if (!$('account-view').hidden) request.options.opener?.focus();
    request.resolve(result ?? true);
  }

  /** Shows why the action failed, in the dialog, and where to correct it. */
  function fail(err, viaPasskey = false) {
    const { options, chosen, fields } = current;
    const nothing = options.nothingChanged ?? 'Nothing was changed.';
    let text = options.explain?.(err);
    if (text === undefined && viaPasskey && err.code === 'reauth_failed') {
      text = `That passkey was not accepted: it may have been removed from your account. ${nothing}`;
    } else if (text === undefined && err.code === 'invalid_challenge') {
      text = `The passkey confirmation took too long or was already used: try again. ${nothing}`;
    }
    if (text === undefined) {
      text = errorText(err, {
        reauthFailed: `That password or code is wrong. ${nothing}`,
        rateLimited: `${nothing} `,
        network: options.network ?? `${nothing} Check your connection and try again.`,
      });
    }
    if (err.code === 'reauth_required') {
      // The account's two-factor state may have changed elsewhere: ask again with the new rule.
      text = `${err.message || 'More proof is needed.'} ${nothing}`;
      onStale().then(() => { if (current) { build(); focusFirst(); } });
    }
    showError($('reauth-error'), text);
    if (viaPasskey) {
      $('reauth-passkey-button').focus();
      return;
    }
    const wrong = err.code === 'reauth_failed' || err.code === 'reauth_required';
    markInvalid(wrong ? chosen : [], true);
    focusFirst();
  }

  /** Closes the dialog (cancel, or the session ended); a pending ask resolves with null. */
  function close() {
    settle();
    const d = $('reauth-dialog');
    if (d.open) d.close();
  }

  function settle() {
    if (!current) return;
    const { resolve, abort } = current;
    current = null;
    // A passkey prompt still open belongs to this request: it goes with it.
    abort?.abort();
    $('reauth-form').reset();
    $('reauth-groups').replaceChildren();
    resolve(null);
  }

  return {
    ask,
    close,
    wire() {
      $('reauth-form').addEventListener('submit', submit);
      $('reauth-passkey-button').addEventListener('click', usePasskey);
      $('reauth-cancel').addEventListener('click', () => {
        const opener = current?.options.opener;
        close();
        if (opener && !$('account-view').hidden) opener.focus();
      });
      // However it closed (Escape, Cancel, success), focus goes back to the button that opened it.
      $('reauth-dialog').addEventListener('close', () => {
        // Reopened for another action before this event ran: that one is not over.
        if ($('reauth-dialog').open || !current) return;
        const { opener } = current.options;
        settle();
        if (opener && !$('account-view').hidden) opener.focus();
      });
    },
  };
}
