import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.js';
import { ErrorNote } from './common.js';

/**
 * A modal confirmation (native <dialog>: focus moves in, Esc cancels, focus returns) asking for a reason and,
 * optionally, a date and time. `onConfirm({ reason, until })` returns a promise; its error is shown in the dialog.
 */
export function ConfirmDialog({ title, message, confirmLabel, danger = false, reasonRequired = false, askReason = true, askUntil = false, onConfirm, onClose }) {
  const ref = useRef(null);
  const [reason, setReason] = useState('');
  const [until, setUntil] = useState(() => defaultUntil());
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const d = ref.current;
    // The dialog is removed from the page when it closes: give focus back to what opened it.
    const opener = document.activeElement;
    d.showModal();
    const cancel = (e) => {
      e.preventDefault();
      onClose();
    };
    d.addEventListener('cancel', cancel);
    return () => {
      d.removeEventListener('cancel', cancel);
      if (d.open) d.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onConfirm({ reason: reason.trim() || undefined, until: askUntil ? new Date(until).toISOString() : undefined });
      onClose(true);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return html`<dialog ref=${ref} class="dialog" aria-labelledby="dialog-title">
    <form onSubmit=${submit}>
      <h2 id="dialog-title">${title}</h2>
      ${message ? html`<p>${message}</p>` : null}
      ${askUntil
        ? html`<label class="field" for="dialog-until"><span>Snooze until (your local time)</span>
            <input id="dialog-until" type="datetime-local" required value=${until} min=${localInput(new Date(Date.now() + 60_000))} onInput=${(e) => setUntil(e.currentTarget.value)} /></label>`
        : null}
      ${askReason
        ? html`<label class="field" for="dialog-reason"><span>Reason${reasonRequired ? '' : ' (optional, recorded)'}</span>
            <textarea id="dialog-reason" rows="3" maxlength="500" required=${reasonRequired} value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea></label>`
        : null}
      <${ErrorNote} error=${error} />
      <div class="dialog-actions">
        <button type="button" onClick=${() => onClose()}>Cancel</button>
        <button type="submit" class=${danger ? 'danger' : 'primary'} disabled=${busy}>${busy ? 'Working…' : confirmLabel}</button>
      </div>
    </form>
  </dialog>`;
}

/** `<input type="datetime-local">` text for a Date, in local time. */
export function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Tomorrow 08:00 local: the usual "after the change freeze / next morning". */
function defaultUntil() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(8, 0, 0, 0);
  return localInput(d);
}
