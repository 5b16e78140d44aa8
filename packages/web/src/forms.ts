/**
 * Forms for the write routes, made from the request body's JSON Schema in the server's OpenAPI
 * document (ComplianceChanges, CallHomeChanges): one input per field with its limits, checked as
 * the API checks them before anything is sent; only the changed fields are sent (the routes are
 * partial writes). What the API refuses across fields comes back as a 400 naming the field, shown
 * at that field.
 */
import { ApiError } from './api.js';
import { h } from './dom.js';
import { changedFields, errorField, fieldValue, type FieldSchema } from './logic.js';

const label = (name: string): string => name.replace(/_/g, ' ').replace(/\b(ips|psi|s)\b/g, (u) => ({ ips: '(in/s)', psi: '(psi)', s: '(s)' })[u]!);

interface Field {
  path: string[];
  schema: FieldSchema;
  read(): string | boolean;
  showError(message: string | undefined): void;
  focus(): void;
}

function baseType(s: FieldSchema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
}

export interface SchemaFormOptions {
  id: string;
  schema: FieldSchema;
  current: Record<string, unknown>;
  submitLabel: string;
  /** Sends the changes; answers the new current values. */
  submit(changes: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export function schemaForm(o: SchemaFormOptions): HTMLFormElement {
  const fields: Field[] = [];
  const status = h('p', { class: 'form-status', role: 'status' });
  let current = o.current;

  const input = (path: string[], schema: FieldSchema, value: unknown): HTMLElement => {
    const id = `${o.id}-${path.join('-')}`;
    const errorId = `${id}-error`;
    const hintId = `${id}-hint`;
    const error = h('p', { class: 'field-error', id: errorId, hidden: true });
    const hint = schema.description ? h('small', { id: hintId, class: 'hint' }, schema.description) : null;
    const type = baseType(schema);
    let control: HTMLInputElement | HTMLSelectElement;
    if (type === 'boolean') {
      control = h('input', { type: 'checkbox', id, name: path.join('.') });
      control.checked = value === true;
    } else if (schema.enum) {
      control = h('select', { id, name: path.join('.') }, h('option', { value: '' }, value === null || value === undefined ? '(unknown)' : '(unchanged)'), ...schema.enum.map((v) => h('option', { value: String(v) }, String(v))));
      control.value = value === null || value === undefined ? '' : String(value);
    } else {
      control = h('input', { type: 'text', id, name: path.join('.'), inputmode: type === 'string' ? null : 'decimal', maxlength: schema.maxLength ?? null, autocomplete: 'off' });
      control.value = value === null || value === undefined ? '' : String(value);
    }
    const described = [hint ? hintId : null, errorId].filter(Boolean).join(' ');
    control.setAttribute('aria-describedby', described);
    fields.push({
      path,
      schema,
      read: () => (control instanceof HTMLInputElement && control.type === 'checkbox' ? control.checked : control.value),
      showError(message) {
        error.hidden = !message;
        error.textContent = message ?? '';
        if (message) control.setAttribute('aria-invalid', 'true');
        else control.removeAttribute('aria-invalid');
      },
      focus: () => control.focus(),
    });
    return h('div', { class: `field ${type === 'boolean' ? 'check' : ''}` }, h('label', { for: id }, label(path[path.length - 1]!)), control, hint, error);
  };

  const build = (schema: FieldSchema, values: Record<string, unknown>, path: string[] = []): HTMLElement[] =>
    Object.entries(schema.properties ?? {}).map(([name, s]) =>
      s.properties ? h('fieldset', {}, h('legend', {}, label(name)), ...build(s, (values[name] as Record<string, unknown>) ?? {}, [...path, name])) : input([...path, name], s, values[name]),
    );

  const form = h('form', { id: o.id, class: 'schema-form', novalidate: true }, ...build(o.schema, current), h('button', { type: 'submit' }, o.submitLabel), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = '';
    const next: Record<string, unknown> = {};
    let firstBad: Field | undefined;
    for (const f of fields) {
      const r = fieldValue(f.schema, f.read());
      f.showError(r.error);
      if (r.error) firstBad ??= f;
      let into = next;
      for (const p of f.path.slice(0, -1)) into = (into[p] ??= {}) as Record<string, unknown>;
      into[f.path[f.path.length - 1]!] = r.value;
    }
    if (firstBad) {
      firstBad.focus();
      status.textContent = 'Some values are not valid: see the fields marked.';
      return;
    }
    const changes = changedFields(current, next);
    if (Object.keys(changes).length === 0) {
      status.textContent = 'Nothing changed.';
      return;
    }
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement;
    button.disabled = true;
    status.textContent = 'Saving…';
    try {
      current = await o.submit(changes);
      status.textContent = `Saved: ${Object.keys(changes).join(', ')}.`;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const named = err instanceof ApiError && err.status === 400 ? errorField(message) : undefined;
      const field = named ? fields.find((f) => f.path.join('.') === named) : undefined;
      if (field) {
        field.showError(message.replace(/^[^:]+: /, ''));
        field.focus();
        status.textContent = 'The unit did not take it: see the field marked.';
      } else {
        status.textContent = `Not saved: ${message}`;
      }
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
