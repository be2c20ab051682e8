// The two dialogs of the page: confirming an operator action (cancel with its mode, retry), and
// asking for the admin token when the daemon answers 401.

import { shortId } from './element.js';

/**
 * Asks the operator to confirm `kind` ('cancel' | 'retry') on `run`. Resolves with
 * `{ mode }` (the cancel mode chosen) when confirmed, null when dismissed.
 */
export function confirmAction(kind, run) {
  const dialog = document.getElementById('confirm-dialog');
  const title = document.getElementById('confirm-title');
  const text = document.getElementById('confirm-text');
  const modes = document.getElementById('cancel-modes');
  const confirm = dialog.querySelector('[data-testid="confirm-button"]');
  const what = `run ${shortId(run.id)} (${run.flow ?? 'flow ?'} on ${run.key ?? 'key ?'})`;
  if (kind === 'cancel') {
    title.textContent = `Cancel ${what}?`;
    text.textContent =
      run.status === 'queued'
        ? 'It is queued: its owner drops it when it would claim it.'
        : 'Its owner interrupts it now (a provider turn is aborted and its process group killed).';
    modes.hidden = false;
    dialog.querySelector('input[value="abort-drop"]').checked = true;
    confirm.textContent = 'Cancel run';
    confirm.classList.add('danger');
  } else {
    title.textContent = `Retry ${what}?`;
    text.textContent = 'It is queued again and resumes from its last committed step.';
    modes.hidden = true;
    confirm.textContent = 'Retry run';
    confirm.classList.remove('danger');
  }
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue !== 'confirm') return resolve(null);
        const mode = dialog.querySelector('input[name="mode"]:checked')?.value ?? 'abort-drop';
        resolve({ mode });
      },
      { once: true },
    );
  });
}

/**
 * Shows the token form and resolves with the token typed; `rejected` says the last one was refused.
 * The form cannot be dismissed: nothing on the page works without the token.
 */
export function askToken(rejected) {
  const dialog = document.getElementById('token-dialog');
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input[name="token"]');
  const message = document.getElementById('token-message');
  message.textContent = rejected
    ? 'The daemon refused that token. Enter the admin token holdfast serve was started with.'
    : 'This daemon requires its admin token. It is kept for this browser tab only.';
  message.classList.toggle('error', rejected);
  input.value = '';
  if (!dialog.open) dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    const onCancel = (event) => event.preventDefault();
    const onSubmit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === '') {
        input.focus();
        return;
      }
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      resolve(token);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel);
  });
}
