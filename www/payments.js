// "Payments (demo)": one request to the application behind the edge, POST /app/payments, which
// the edge guards with a step-up rule (STEP_UP: a passkey confirmation in the last 5 minutes by
// default). The API client handles the refusal (the dialog, then the request once more); this card
// only shows what the application answered, or why nothing was paid.
import { errorText } from './api.js';
import { $, announce, showError } from './dom.js';

/** `api`. */
export function createPayments({ api }) {
  async function pay() {
    const button = $('payment-make');
    button.disabled = true;
    showError($('payments-error'), '');
    try {
      const answer = await api('POST', '/app/payments', { body: { amount: 100, currency: 'EUR', description: 'Test payment' } });
      $('payment-answer').textContent = answer === null ? '(no JSON answer)' : JSON.stringify(answer, null, 2);
      $('payment-result').hidden = false;
      announce('The test payment was accepted.');
    } catch (err) {
      if (err.handled) return;
      $('payment-result').hidden = true;
      showError($('payments-error'), `The test payment was not made. ${errorText(err)}`);
    } finally {
      button.disabled = false;
    }
  }

  return {
    /** Hides the last answer (the session ended). */
    clear() {
      $('payment-result').hidden = true;
      $('payment-answer').textContent = '';
      showError($('payments-error'), '');
    },
    wire() {
      $('payment-make').addEventListener('click', pay);
    },
  };
}
