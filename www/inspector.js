// The token inspector: the decoded header and claims of a token and the verdict of the
// in-browser validator (local.js) on it, with the revocation state it was judged on.
import { $ } from './dom.js';
import { absolute, clock } from './time.js';

function decodePart(part) {
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const json = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return '(not a JSON object)';
  }
}

/** Sets text only when it changed, so live regions announce changes, not the 5 s re-checks. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** `local`: the LocalValidator; `session`: the Session (for "Show this device's token"). */
export function createInspector({ local, session }) {
  /** Shows `token` (null for none) with `result` of local.check, checked now when not given. */
  function render(token, result) {
    const verdictEl = $('inspector-verdict');
    if (!token) {
      setText(verdictEl, 'no token');
      verdictEl.className = '';
      setText($('inspector-message'), '—');
      $('inspector-header').textContent = '—';
      $('inspector-claims').textContent = '—';
    } else {
      const parts = token.split('.');
      $('inspector-header').textContent = decodePart(parts[0] ?? '');
      $('inspector-claims').textContent = parts.length === 3 ? decodePart(parts[1]) : '(not a compact JWS)';
      const r = result ?? local.check(token);
      if (!r.checked) {
        setText(verdictEl, 'not checked');
        verdictEl.className = '';
        setText($('inspector-message'), r.why);
      } else if (r.verdict.valid) {
        const v = r.verdict;
        setText(verdictEl, 'valid');
        verdictEl.className = 'verdict-valid';
        setText($('inspector-message'), `Signature, claims and revocation state check out: device ${v.device}, epoch ${v.epoch}, expires ${absolute.format(new Date(v.expiresAt * 1000))}.`);
      } else {
        setText(verdictEl, r.verdict.reason);
        verdictEl.className = 'verdict-invalid';
        setText($('inspector-message'), r.verdict.message);
      }
    }
    const kids = local.tokenKids.length ? ` · token keys: ${local.tokenKids.join(', ')}` : '';
    $('inspector-state').textContent = `${local.describeState()}${kids}`;
    $('inspector-checked').textContent = token ? clock.format(new Date()) : '—';
  }

  async function inspectOther(event) {
    event.preventDefault();
    const token = $('inspector-token').value.trim();
    if (!token) { $('inspector-token').focus(); return; }
    await local.ready;
    await local.pull();
    render(token);
  }

  async function inspectOwn() {
    $('inspector-token').value = '';
    await local.ready;
    render(session.token ?? session.lastToken);
  }

  return {
    render,
    wire() {
      $('inspector-form').addEventListener('submit', inspectOther);
      $('inspector-own').addEventListener('click', inspectOwn);
    },
  };
}
