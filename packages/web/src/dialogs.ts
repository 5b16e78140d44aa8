/** The page's dialogs: the bearer token, and a confirmation (native <dialog>: focus kept inside, Escape cancels). */
import { h } from './dom.js';

function modal(content: HTMLElement[], labelledBy: string): HTMLDialogElement {
  const d = h('dialog', { 'aria-labelledby': labelledBy }, ...content);
  document.body.append(d);
  d.addEventListener('close', () => d.remove());
  d.showModal();
  return d;
}

/** Asks for the bearer token; resolves undefined on cancel. */
export function askToken(why: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'password', id: 'token-input', name: 'token', autocomplete: 'current-password', required: true, minlength: '1' });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'token-title' }, 'This server asks for its token'),
      h('p', {}, `${why}. The token is the server's http_token; it is kept in this tab only.`),
      h('div', { class: 'field' }, h('label', { for: 'token-input' }, 'Bearer token'), input),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', value: 'ok' }, 'Send'), h('button', { type: 'button', value: 'cancel', onclick: () => d.close('cancel') }, 'Cancel')),
    );
    const d = modal([form], 'token-title');
    d.addEventListener('close', () => resolve(d.returnValue === 'ok' && input.value ? input.value : undefined));
    input.focus();
  });
}

/** Asks to confirm; resolves true only when the person confirms. */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', { id: 'confirm-text' }, text),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', value: 'cancel', autofocus: true }, 'Cancel'), h('button', { type: 'submit', value: 'confirm', class: 'danger' }, confirmLabel)),
    );
    const d = modal([form], 'confirm-title');
    d.setAttribute('aria-describedby', 'confirm-text');
    d.addEventListener('close', () => resolve(d.returnValue === 'confirm'));
  });
}
